use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let state = gateway::init().await?;
    run(service_fn(|event: LambdaEvent<Value>| async {
        authorizer::handler(&state, event.payload).await
    }))
    .await
}
