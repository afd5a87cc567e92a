use authorizer::AuthorizerEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let state = &gateway::init().await?;
    run(service_fn(
        |event: LambdaEvent<AuthorizerEvent>| async move {
            authorizer::authorize(state, &event.payload).await
        },
    ))
    .await
}
