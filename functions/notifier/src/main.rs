use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use webhook::WebhookConfig;

// One event at a time: worker threads would only add start-up work (BENCHMARKS.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let state = gateway::init().await?;
    // The template sets both only when webhooks are on; a deployed notifier without them
    // has nothing to do, and says so at init rather than accepting events it would drop.
    let config = WebhookConfig::from_lookup(|name| std::env::var(name).ok())
        .inspect_err(|e| tracing::error!(error = %e, "invalid webhook configuration"))?
        .ok_or("WEBHOOK_URL and WEBHOOK_SECRET are not set: the notifier has nothing to send")?;
    let notifier = notifier::Notifier::new(state.store, config)?;
    run(service_fn(|event: LambdaEvent<Value>| {
        let notifier = &notifier;
        async move { notifier.handle(event.payload).await.map_err(Error::from) }
    }))
    .await
}
