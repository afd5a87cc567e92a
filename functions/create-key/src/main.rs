use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let state = gateway::init().await?;
    run(service_fn(|req| async {
        Ok::<_, Error>(create_key::handler(&state, req).await)
    }))
    .await
}
