use authorizer::AuthorizerEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

// One event at a time: worker threads would only add start-up work (BENCHMARKS.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let state = &gateway::init().await?;
    run(service_fn(
        |event: LambdaEvent<AuthorizerEvent>| async move {
            authorizer::authorize(state, &event.payload).await
        },
    ))
    .await
}
