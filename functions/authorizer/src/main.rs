// The decision future nests deeply (the SDK's calls inside `tokio::join!` inside `answer`).
#![recursion_limit = "256"]

use authorizer::AuthorizerEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

// One binary for both front doors: a REST API's event gets a policy, an HTTP API's (payload
// format 2.0) a simple response (`authorizer::answer`).
// One event at a time: worker threads would only add start-up work (BENCHMARKS.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // The shutdown extension's registration goes out first; the configuration and client are
    // made while the Runtime API answers it.
    let (extension, state) = tokio::join!(authorizer::shutdown::register(), gateway::init());
    let state = state?;
    // Usage counts still in the container are written when Lambda shuts it down (SPEC §12).
    let on_shutdown = state.clone();
    extension?.on_sigterm(move || async move {
        let flushed = authorizer::flush_all(&on_shutdown).await;
        tracing::info!(
            written = flushed.written,
            lost = flushed.kept,
            "usage flushed on shutdown"
        );
    })?;
    let state = &state;
    run(service_fn(
        |event: LambdaEvent<AuthorizerEvent>| async move {
            authorizer::answer(state, event.payload).await
        },
    ))
    .await
}
