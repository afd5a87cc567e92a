//! The SPEC §7 cold-start baseline: the smallest `lambda_runtime` function there is, on
//! tokio's default multi-thread runtime (see `hello_lambda_current_thread.rs` for §7b's).

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<_, Error>(event.payload)
    }))
    .await
}
