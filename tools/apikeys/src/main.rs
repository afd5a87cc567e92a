//! `apikeys`: the operator's CLI. Works against real AWS (default credential chain) or a
//! DynamoDB Local (`AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000`, no credentials needed).

use std::process::ExitCode;

use apikey::{GracePeriod, Lifetime, PageLimit};
use clap::{Args, Parser, Subcommand};

mod change;
mod commands;
mod signing;
mod webhooks;

#[derive(Debug, Parser)]
#[command(
    name = "apikeys",
    version,
    about = "Manage podkeys API keys and their table"
)]
struct Cli {
    /// The DynamoDB table holding the keys.
    #[arg(long, env = "TABLE_NAME", global = true, default_value = "podkeys")]
    table: String,
    /// The deployment's key prefix (`[a-z][a-z0-9]{1,9}`).
    #[arg(long, env = "KEY_PREFIX", global = true, default_value = "pod")]
    prefix: String,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Table operations.
    Table {
        #[command(subcommand)]
        command: TableCommand,
    },
    /// Create a key and print it (the only time it is shown).
    Create(CreateArgs),
    /// List keys, newest first.
    List(ListArgs),
    /// Change a key's name, description, scopes or plan (the key must be active).
    Update(UpdateArgs),
    /// Revoke a key by id (idempotent).
    Revoke {
        /// The key's id, `key_…`.
        id: String,
    },
    /// Replace a key: a new key with the same name, scopes, owner and lifetime; the old one
    /// keeps working for the grace period (default a day; 0 revokes it now).
    Rotate {
        /// The key's id, `key_…`.
        id: String,
        /// Seconds the old key keeps working (0-2592000).
        #[arg(long, default_value_t = GracePeriod::DEFAULT)]
        grace_seconds: GracePeriod,
    },
    /// The audit log, newest first: who created, rotated, updated or revoked which key
    /// (SPEC §11).
    Audit(AuditArgs),
    /// Requests by UTC day and outcome (allowed, rate_limited, denied) of one key, or of all
    /// of an owner's keys with --owner (SPEC §12).
    Usage(UsageArgs),
    /// The keys that sign the assertion the podcast backend verifies (SPEC §15).
    SigningKey {
        #[command(subcommand)]
        command: SigningCommand,
    },
    /// The expiry scan now (deployed, a daily schedule runs it): each key expiring within 30
    /// days, or expired since yesterday, gets the notice it is due, once (SPEC §14). Needs
    /// WEBHOOK_URL and WEBHOOK_SECRET.
    NotifyExpiring {
        /// Scan as if it were this time (RFC 3339), e.g. to see next week's notices.
        #[arg(long)]
        now: Option<String>,
    },
    /// Webhook deliveries that were given up after their last retry (SPEC §14).
    Webhooks {
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// Check a key: its format, and whether it is known and active. Never prints the key.
    Verify {
        /// The key to check. Pass `-` to read it from standard input (keeps it out of
        /// shell history and process lists).
        key: String,
    },
}

#[derive(Debug, Subcommand)]
enum TableCommand {
    /// Create the keys table (indexes, TTL) and its signing-key table (idempotent).
    Create,
}

#[derive(Debug, Subcommand)]
enum WebhookCommand {
    /// The given-up deliveries, most recent first, with their last error.
    Failed,
    /// Send given-up deliveries again (needs WEBHOOK_URL and WEBHOOK_SECRET); one that fails
    /// again starts the retry schedule over.
    Replay {
        /// Event ids (`Podkeys-Event-Id`), as `webhooks failed` lists them.
        #[arg(required_unless_present = "all")]
        ids: Vec<String>,
        /// Every given-up delivery.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
    },
}

#[derive(Debug, Subcommand)]
enum SigningCommand {
    /// The published signing keys (kid, created), current one marked.
    List,
    /// A new signing key becomes current; the old ones stay published (assertions signed with
    /// them keep verifying) until retired. Warm authorizers switch within 5 minutes.
    Rotate,
    /// Stop publishing a key that is no longer current (wait 10 minutes after a rotation).
    Retire {
        /// The key's kid, as `signing-key list` shows it.
        kid: String,
    },
}

#[derive(Debug, Args)]
struct CreateArgs {
    /// Who the key belongs to.
    #[arg(long)]
    owner: String,
    /// A name to tell the key apart.
    #[arg(long)]
    name: String,
    #[arg(long)]
    description: Option<String>,
    /// Comma-separated scopes; default `*`. `--admin` adds `admin`.
    #[arg(long, value_delimiter = ',')]
    scopes: Vec<String>,
    /// Make an admin key (sees and manages every owner's keys).
    #[arg(long)]
    admin: bool,
    /// Make a feed key (`feeds:read` only): the one kind podcast apps may put in a feed URL,
    /// `?api_key=` (SPEC §16).
    #[arg(long)]
    feed: bool,
    #[command(flatten)]
    plan: PlanArgs,
    /// The API's feed paths, for the example URL a feed key is printed with.
    #[arg(long, env = "FEED_PATHS", default_value = apikey::DEFAULT_FEED_PATHS, hide = true)]
    feed_paths: String,
    /// Days until the key expires (1-3650); never, if absent.
    #[arg(long)]
    expires_in_days: Option<Lifetime>,
    /// Create the key even if the owner already holds MAX_ACTIVE_KEYS_PER_OWNER active keys
    /// (the operator's override; it is said on stderr).
    #[arg(long)]
    over_limit: bool,
    /// The per-owner limit the API enforces.
    #[arg(long, env = "MAX_ACTIVE_KEYS_PER_OWNER", default_value_t = 100)]
    max_active_keys: usize,
}

/// `--plan`, checked against the API's own `PLANS` / `DEFAULT_PLAN` (SPEC §10).
#[derive(Debug, Args)]
struct PlanArgs {
    /// A plan from PLANS (create: DEFAULT_PLAN when absent).
    #[arg(long)]
    plan: Option<String>,
    #[arg(long, env = "PLANS", default_value = gateway::DEFAULT_PLANS, hide = true)]
    plans: String,
    #[arg(long, env = "DEFAULT_PLAN", default_value = gateway::DEFAULT_PLAN, hide = true)]
    default_plan: String,
}

#[derive(Debug, Args)]
struct UpdateArgs {
    /// The key's id, `key_…`.
    id: String,
    #[arg(long)]
    name: Option<String>,
    /// The new description; an empty one removes it.
    #[arg(long)]
    description: Option<String>,
    /// Comma-separated scopes (replaces the key's; the operator may widen).
    #[arg(long, value_delimiter = ',')]
    scopes: Vec<String>,
    #[command(flatten)]
    plan: PlanArgs,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Only this owner's keys (default: every owner).
    #[arg(long)]
    owner: Option<String>,
    /// Only keys in this state: active, revoked or expired.
    #[arg(long)]
    status: Option<String>,
    /// At most this many keys (1-100).
    #[arg(long, default_value_t = PageLimit::DEFAULT)]
    limit: PageLimit,
}

#[derive(Debug, Args)]
struct AuditArgs {
    /// Only events about this key (as target or actor), `key_…`.
    #[arg(long)]
    key: Option<String>,
    /// Only this owner's events (default: every owner's).
    #[arg(long)]
    owner: Option<String>,
    /// At most this many events (1-100).
    #[arg(long, default_value_t = PageLimit::DEFAULT)]
    limit: PageLimit,
}

#[derive(Debug, Args)]
struct UsageArgs {
    /// The key's id, `key_…`.
    #[arg(required_unless_present = "owner")]
    id: Option<String>,
    /// Every key of this owner instead of one key.
    #[arg(long, conflicts_with = "id")]
    owner: Option<String>,
    /// The first day, YYYY-MM-DD (default: 29 days before --to).
    #[arg(long)]
    from: Option<String>,
    /// The last day, YYYY-MM-DD (default: today, UTC).
    #[arg(long)]
    to: Option<String>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        // Bad arguments exit 2, as clap's own usage errors do; everything else 1.
        Err(commands::Failure::Usage(message)) => {
            eprintln!("apikeys: {message}");
            ExitCode::from(2)
        }
        Err(commands::Failure::Failed(message)) => {
            eprintln!("apikeys: {message}");
            ExitCode::FAILURE
        }
    }
}
