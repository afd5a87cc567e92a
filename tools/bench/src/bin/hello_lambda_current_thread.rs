//! The §7b cold-start baseline: the smallest `lambda_runtime` function on tokio's
//! `current_thread` runtime, the flavour every podkeys function uses. Identical to
//! `hello_lambda.rs` but for the runtime flavour.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<_, Error>(event.payload)
    }))
    .await
}
