//! `local-gateway`: serves the podkeys API on 127.0.0.1 as API Gateway would.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use local_gateway::{Api, Functions, LocalGateway, echo};
use tokio::net::TcpListener;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "API Gateway (REST or HTTP API) for podkeys on your machine"
)]
struct Args {
    /// Address to serve on.
    #[arg(long, env = "PODKEYS_ADDR", default_value = "127.0.0.1")]
    addr: String,
    #[arg(long, env = "PODKEYS_PORT", default_value_t = 3000)]
    port: u16,
    /// Run the functions as real binaries behind this Lambda Invoke API (`cargo lambda
    /// watch`, e.g. http://127.0.0.1:9000) instead of in this process.
    #[arg(long)]
    lambda_endpoint: Option<String>,
    /// Which front door of the template to serve: `rest` (the REST API of
    /// infra/openapi.yaml) or `http` (the HTTP API, payload format 2.0).
    #[arg(long, env = "PODKEYS_API", default_value = "rest")]
    api: Api,
    /// The podcast backend; a built-in echo backend when absent.
    #[arg(long, env = "PODCAST_BACKEND_URL")]
    podcast_backend_url: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    gateway::init_tracing();
    let functions = match args.lambda_endpoint {
        Some(url) => Functions::Remote(url),
        None => match gateway::State::from_env().await {
            Ok(state) => Functions::InProcess(state),
            Err(e) => {
                eprintln!("local-gateway: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    // The in-process authorizer's pending usage counts are written on the way out, as
    // Lambda's SIGTERM has the deployed authorizer do (SPEC §12).
    let authorizer_state = match &functions {
        Functions::InProcess(state) => Some(state.clone()),
        Functions::Remote(_) => None,
    };
    // The gateway's listener first: the echo backend fetches the API's public keys from it.
    let listener = match TcpListener::bind((args.addr.as_str(), args.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "local-gateway: cannot listen on {}:{}: {e}",
                args.addr, args.port
            );
            return ExitCode::FAILURE;
        }
    };
    let backend = match args.podcast_backend_url {
        // Plain HTTP only on this machine (SPEC §3: https:// outside loopback); this gateway
        // speaks plain HTTP to its backend, so a remote one is refused rather than sent keys'
        // identities in clear.
        Some(url) if !gateway::is_loopback_url(&url) => {
            eprintln!(
                "local-gateway: PODCAST_BACKEND_URL {url:?} must be an http:// URL on loopback \
                 (localhost, 127.0.0.1, [::1]); deployed stacks take an https:// backend"
            );
            return ExitCode::from(2);
        }
        Some(url) => url,
        None => match echo_backend(&listener).await {
            Ok(url) => url,
            Err(e) => {
                eprintln!("local-gateway: echo backend: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let gateway = match LocalGateway::for_api(args.api, functions, &backend) {
        Ok(g) => Arc::new(g),
        Err(e) => {
            eprintln!("local-gateway: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "local-gateway: serving the {:?} API on http://{}:{} (podcast backend {backend})",
        args.api, args.addr, args.port
    );
    tokio::select! {
        () = gateway.serve(listener) => {}
        () = stop_signal() => eprintln!("local-gateway: stopping"),
    }
    if let Some(state) = authorizer_state {
        let flushed = authorizer::flush_all(&state).await;
        eprintln!(
            "local-gateway: usage written for {} key-days ({} could not be)",
            flushed.written, flushed.kept
        );
    }
    ExitCode::SUCCESS
}

/// Ctrl-C (SIGINT) or SIGTERM (how `make dev` and process managers stop it).
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Starts the echo backend on a free port; it verifies assertions with the keys of the
/// gateway listening on `gateway`.
async fn echo_backend(gateway: &TcpListener) -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let gateway = format!("http://{}", gateway.local_addr()?);
    tokio::spawn(async move { echo::serve_for(listener, &gateway).await });
    Ok(url)
}
