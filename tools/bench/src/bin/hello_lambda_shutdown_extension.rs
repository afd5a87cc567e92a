//! What the authorizer's shutdown extension (SPEC §12) costs at init: the `current_thread`
//! hello world of `hello_lambda_current_thread.rs`, registering the same extension first.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    authorizer::shutdown::register()
        .await?
        .on_sigterm(|| async {})?;
    run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<_, Error>(event.payload)
    }))
    .await
}
