//! `local-gateway`: serves the podkeys API on 127.0.0.1 as API Gateway would.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

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
    /// Seconds between the notifier's runs for due webhook retries (the template's schedule
    /// is every 60). Only with WEBHOOK_URL and WEBHOOK_SECRET set.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    webhook_deliver_every: u64,
    /// Seconds between webhook attempts instead of the standard schedule (30 s … 15 min),
    /// comma-separated, e.g. `1,1,2`: to watch retries without waiting an hour.
    #[arg(long, value_delimiter = ',')]
    webhook_retry_delays: Option<Vec<u64>>,
    /// Append the event source mapping's on-failure records (stream batches the notifier
    /// gave up on) to this file, one JSON line each, as the template's SQS queue receives
    /// them; logged when absent.
    #[arg(long)]
    stream_failures: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    gateway::init_tracing();
    let functions = match args.lambda_endpoint.clone() {
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
    // Lifecycle webhooks (SPEC §14): on when WEBHOOK_URL and WEBHOOK_SECRET are set, the
    // notifier in-process on the table's stream, as deployed.
    let _webhooks = match &functions {
        Functions::InProcess(state) => match start_webhooks(state, &args).await {
            Ok(w) => w,
            Err(e) => {
                eprintln!("local-gateway: {e}");
                return ExitCode::from(2);
            }
        },
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

async fn start_webhooks(
    state: &gateway::State,
    args: &Args,
) -> Result<Option<local_gateway::webhooks::Webhooks>, String> {
    use local_gateway::streams::OnFailure;
    use local_gateway::webhooks::{Webhooks, mapping_config};
    let Some(config) = webhook::WebhookConfig::from_lookup(|name| std::env::var(name).ok())
        .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let url = config.url().as_str().to_owned();
    let mut notifier = notifier::Notifier::new(state.store.clone(), config)
        .map_err(|e| format!("webhook HTTP client: {e}"))?;
    if let Some(delays) = &args.webhook_retry_delays {
        let delays = delays.iter().map(|&s| Duration::from_secs(s)).collect();
        notifier = notifier.with_schedule(webhook::RetrySchedule::new(delays, 0));
    }
    let on_failure = match &args.stream_failures {
        Some(path) => OnFailure::File(path.clone()),
        None => OnFailure::Log,
    };
    let webhooks = Webhooks::start(
        Arc::new(notifier),
        mapping_config(on_failure),
        Duration::from_secs(args.webhook_deliver_every),
    )
    .await?;
    eprintln!(
        "local-gateway: webhooks to {url} (signed; the table's stream, retries every {} s)",
        args.webhook_deliver_every
    );
    Ok(Some(webhooks))
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
