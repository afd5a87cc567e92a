use lambda_http::{Error, run, service_fn};

// One event at a time: worker threads would only add start-up work (BENCHMARKS.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let state = gateway::init().await?;
    run(service_fn(|req| async {
        Ok::<_, Error>(list_keys::handler(&state, req).await)
    }))
    .await
}
