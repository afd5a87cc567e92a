//! Commands that make or change a key: `create` and `update`.

use apikey::{
    Description, FeedPaths, KeyId, KeyName, KeyPrefix, OwnerId, Scope, ScopeSet, Timestamp,
};
use handler::KeyObject;
use keystore::{Access, KeyChanges, KeyRecord, KeyStore, NewKey, StoreError};

use crate::commands::{Failure, Outcome, explain, usage};
use crate::{CreateArgs, PlanArgs, UpdateArgs};

impl PlanArgs {
    fn plans(&self) -> Result<apikey::Plans, Failure> {
        gateway::parse_plans(&self.plans, &self.default_plan).map_err(|e| e.to_string().into())
    }

    /// The plan `--plan` names, if any; an unknown one is a usage error.
    fn chosen(&self) -> Result<Option<apikey::PlanName>, Failure> {
        let Some(name) = self.plan.as_deref() else {
            return Ok(None);
        };
        let plans = self.plans()?;
        let (plan, _) = plans
            .resolve(name)
            .map_err(|e| usage(format!("--plan: {e}")))?;
        Ok(Some(plan.clone()))
    }
}

pub(crate) async fn create(
    store: &KeyStore,
    prefix: &KeyPrefix,
    args: CreateArgs,
    json: bool,
) -> Outcome {
    let owner_id = OwnerId::parse(&args.owner).map_err(|e| usage(format!("--owner: {e}")))?;
    let name = KeyName::parse(&args.name).map_err(|e| usage(format!("--name: {e}")))?;
    let description = args
        .description
        .as_deref()
        .map(Description::parse)
        .transpose()
        .map_err(|e| usage(format!("--description: {e}")))?;
    let mut names: Vec<&str> = args.scopes.iter().map(String::as_str).collect();
    if args.feed {
        // A feed key holds feeds:read and nothing else, or a URL may not carry it (SPEC §16).
        if args.admin || !names.is_empty() {
            return Err(usage(
                "--feed makes a key with feeds:read only; drop --scopes and --admin".into(),
            ));
        }
        names.push(Scope::FeedsRead.as_str());
    }
    if args.admin {
        names.push("admin");
    }
    if names.is_empty() {
        names.push("*");
    }
    let scopes = ScopeSet::parse(names).map_err(|e| usage(format!("--scopes: {e}")))?;
    let plan = match args.plan.chosen()? {
        Some(plan) => plan,
        None => args.plan.plans()?.default_plan().clone(),
    };
    let now = Timestamp::now();
    let new = NewKey {
        owner_id,
        name,
        description,
        scopes,
        expires_at: args.expires_in_days.map(|d| now.plus_days(d.get())),
        plan: Some(plan),
    };
    let cap = args.max_active_keys.max(1);
    let active = store
        .count_active(&new.owner_id, now, cap)
        .await
        .map_err(|e| explain(store.table(), e))?;
    if active >= cap {
        if !args.over_limit {
            return Err(format!(
                "{} already holds {cap} active keys (MAX_ACTIVE_KEYS_PER_OWNER); revoke one, \
                 or pass --over-limit to create it anyway",
                new.owner_id
            )
            .into());
        }
        eprintln!(
            "apikeys: {} already holds {cap} active keys; creating one more (--over-limit)",
            new.owner_id
        );
    }
    let (key, record) = KeyRecord::issue(prefix, new, now).map_err(|e| e.to_string())?;
    store
        .create(&record, &keystore::Audit::cli())
        .await
        .map_err(|e| explain(store.table(), e))?;
    if json {
        let body = handler::created_body(&record, key.expose_secret(), None, now)
            .map_err(|e| e.to_string())?;
        println!("{body}");
    } else {
        let lifetime = record.expires_at.map_or("never expires".to_owned(), |t| {
            format!("expires {}", t.to_rfc3339())
        });
        let plan = record.plan.as_ref().map_or("-", |p| p.as_str());
        eprintln!(
            "Created {} for {} (scopes: {}; plan {plan}; {lifetime}), as the operator: the API's rule that a \
             key cannot create one that outlives it does not apply here. The key is shown \
             once; store it now:",
            record.id,
            record.owner_id,
            record.scopes.to_spaced()
        );
        println!("{}", key.expose_secret());
        if record.scopes.is_feed_only() {
            let example = FeedPaths::parse(&args.feed_paths)
                .ok()
                .and_then(|f| f.example())
                .unwrap_or_else(|| "/api/v1/feeds/{feed}".into());
            eprintln!(
                "A feed key: podcast apps use it in a feed URL, https://<your API>{example}?api_key=<the key>"
            );
        }
    }
    Ok(())
}

/// `apikeys update ID`: the operator's PATCH (no caller, so no narrowing rule; the key must be
/// active).
pub(crate) async fn update(store: &KeyStore, args: UpdateArgs, json: bool) -> Outcome {
    let id = KeyId::parse(&args.id)
        .map_err(|_| usage(format!("{:?} is not a key id (key_…)", args.id)))?;
    let description = match args.description.as_deref() {
        None => None,
        Some("") => Some(None),
        Some(d) => Some(Some(
            Description::parse(d).map_err(|e| usage(format!("--description: {e}")))?,
        )),
    };
    let changes = KeyChanges {
        name: args
            .name
            .as_deref()
            .map(KeyName::parse)
            .transpose()
            .map_err(|e| usage(format!("--name: {e}")))?,
        description,
        scopes: match args.scopes.is_empty() {
            true => None,
            false => Some(
                ScopeSet::parse(args.scopes.iter().map(String::as_str))
                    .map_err(|e| usage(format!("--scopes: {e}")))?,
            ),
        },
        plan: args.plan.chosen()?,
    };
    if changes.is_empty() {
        return Err(usage(
            "nothing to change: give --name, --description, --scopes or --plan".into(),
        ));
    }
    let now = Timestamp::now();
    let not_found = |e| match e {
        StoreError::NotFound => format!("no key with id {id}"),
        StoreError::NotActive => format!("{id} is revoked or expired; it cannot be changed"),
        e => explain(store.table(), e),
    };
    let record: KeyRecord = store
        .get_by_id(&id)
        .await
        .map_err(not_found)?
        .filter(|r| Access::Admin.permits(r))
        .ok_or_else(|| format!("no key with id {id}"))?;
    let updated = store
        .update(&record, &changes, now, &keystore::Audit::cli())
        .await
        .map_err(not_found)?;
    if json {
        println!(
            "{}",
            serde_json::to_string(&KeyObject::new(&updated, now)).map_err(|e| e.to_string())?
        );
    } else {
        let plan = updated.plan.as_ref().map_or("-", |p| p.as_str());
        println!(
            "updated {} ({}): {:?}, scopes {}, plan {plan}",
            updated.id,
            updated.owner_id,
            updated.name.as_str(),
            updated.scopes.to_spaced()
        );
    }
    Ok(())
}
