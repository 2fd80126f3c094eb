//! `liftoff user ...`, `liftoff team ...`: admin commands on the store.

use liftoff_server::{default_data_dir, open_store};

use crate::cli::{StoreArgs, TeamCommand, UserCommand};

async fn store(
    args: &StoreArgs,
) -> anyhow::Result<std::sync::Arc<dyn liftoff_server::store::Store>> {
    say_which(args);
    let dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
    let db = dir.join("liftoff.db");
    if args.database_url.is_none() && !db.exists() {
        // A server started with another --data-dir would not know what is
        // made here: make a new database only where the user said so.
        anyhow::ensure!(
            args.data_dir.is_some(),
            "no Liftoff database at {} (the default data dir): pass the server's --data-dir (or LIFTOFF_DATA_DIR), or its --database-url. \
             To make users before the server's first start, name the data dir it will use with --data-dir.",
            db.display()
        );
        crate::warn_line!(
            "note: no database at {} yet: creating one. A server must use this data dir (--data-dir {} or LIFTOFF_DATA_DIR) to know what is created here.",
            db.display(),
            dir.display()
        );
    }
    open_store(&dir, args.database_url.as_deref()).await
}

pub async fn user(cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Create {
            name,
            admin,
            store: args,
        } => {
            let store = store(&args).await?;
            let key = liftoff_server::user_create(&*store, &name, admin, super::now_ms()).await?;
            let what = if admin { "admin user" } else { "user" };
            crate::out!("Created {what} `{name}`. API key (shown once):");
            crate::out!("{key}");
            Ok(())
        }
        UserCommand::Key {
            name,
            revoke_others: false,
            store: args,
        } => {
            let store = existing_store(&args).await?;
            let key = liftoff_server::user_key(&*store, &name, super::now_ms()).await?;
            crate::out!("A new API key for `{name}` (shown once; their other keys still work):");
            crate::out!("{key}");
            Ok(())
        }
        UserCommand::Key {
            name,
            revoke_others: true,
            store: args,
        } => {
            let store = existing_store(&args).await?;
            let (key, revoked) =
                liftoff_server::user_key_replacing(&*store, &name, super::now_ms()).await?;
            crate::out!(
                "A new API key for `{name}` (shown once); {revoked} other key(s) revoked (a running server stops taking them within 30 s):"
            );
            crate::out!("{key}");
            Ok(())
        }
        UserCommand::Deactivate { name, store: args } => {
            let store = existing_store(&args).await?;
            let revoked = liftoff_server::user_deactivate(&*store, &name).await?;
            if revoked == 0 {
                crate::out!(
                    "`{name}` has no API key: already deactivated (`liftoff user key {name}` gives them one)."
                );
            } else {
                crate::out!(
                    "Deactivated `{name}`: {revoked} API key(s) revoked (a running server refuses them within 30 s, their agents and running jobs too). \
                     Their runs, jobs and queues are kept; `liftoff user key {name}` gives them a key again."
                );
            }
            Ok(())
        }
        UserCommand::List { store: args } => {
            let store = existing_store(&args).await?;
            let users = liftoff_server::users_list(&*store).await?;
            crate::out!(
                "{:<24} {:<6} {:>4}  {:<20} TEAMS",
                "USER",
                "ADMIN",
                "KEYS",
                "CREATED"
            );
            let keyless = users.iter().filter(|u| u.keys == 0).count();
            for u in users {
                let created = time::OffsetDateTime::from_unix_timestamp(u.created_at / 1000)
                    .ok()
                    .and_then(|t| {
                        t.format(&time::format_description::well_known::Rfc3339)
                            .ok()
                    })
                    .unwrap_or_default();
                crate::out!(
                    "{:<24} {:<6} {:>4}  {:<20} {}",
                    u.name,
                    if u.admin { "yes" } else { "no" },
                    u.keys,
                    created,
                    if u.teams.is_empty() {
                        "-".to_owned()
                    } else {
                        u.teams.join(", ")
                    }
                );
            }
            if keyless > 0 {
                crate::out!(
                    "(0 keys: deactivated, or never given a key; `liftoff user key NAME` lets them in.)"
                );
            }
            Ok(())
        }
    }
}

pub async fn team(cmd: TeamCommand) -> anyhow::Result<()> {
    match cmd {
        TeamCommand::Create {
            name,
            members,
            store: args,
        } => {
            let store = store(&args).await?;
            let named =
                liftoff_server::team_create(&*store, &name, &members, super::now_ms()).await?;
            if named.is_empty() {
                crate::out!(
                    "Created team `{name}` (no members yet: add them with `liftoff team add {name} --member USER`)."
                );
            } else {
                crate::out!("Created team `{name}` with {}.", named.join(", "));
            }
            Ok(())
        }
        TeamCommand::Add {
            name,
            members,
            store: args,
        } => {
            let store = existing_store(&args).await?;
            let added = liftoff_server::team_add(&*store, &name, &members).await?;
            if added.is_empty() {
                crate::out!("No change: they are members of `{name}` already.");
            } else {
                crate::out!("Added {} to team `{name}`.", added.join(", "));
            }
            Ok(())
        }
    }
}

/// The store of a server that has run (or had users made): a key or a
/// member for a database not there yet would be for no one.
async fn existing_store(
    args: &StoreArgs,
) -> anyhow::Result<std::sync::Arc<dyn liftoff_server::store::Store>> {
    say_which(args);
    let dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
    let db = dir.join("liftoff.db");
    anyhow::ensure!(
        args.database_url.is_some() || db.exists(),
        "no Liftoff database at {}: pass the server's --data-dir (or LIFTOFF_DATA_DIR), or its --database-url",
        db.display()
    );
    open_store(&dir, args.database_url.as_deref()).await
}

/// Both a data dir and a database URL: the database is the URL's (the
/// data dir holds a server's files, not its users), said so nobody
/// looks for the user in the data dir's database.
fn say_which(args: &StoreArgs) {
    if let (Some(dir), Some(_)) = (&args.data_dir, &args.database_url) {
        crate::warn_line!(
            "note: the users and teams are in the --database-url database, not in {} (--data-dir or LIFTOFF_DATA_DIR is for a server's files)",
            dir.display()
        );
    }
}
