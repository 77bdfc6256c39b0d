//! `leakwatch token`: create, list and revoke the console's API tokens.
//! A token's value is printed once, at creation, and stored nowhere.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};

use crate::access::{expiry_from_now, Role, Scope};
use crate::alert_store::AlertStore;
use crate::{paths, GlobalArgs};

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token and print it (once: only its SHA-256 is kept).
    Create(CreateArgs),
    /// List tokens (names, scopes, roles, dates; never values).
    List {
        /// One JSON object a line.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by name; its console sessions end with it.
    Revoke { name: String },
}

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// Who the token is for; the audit trail names it.
    #[arg(long)]
    name: String,
    /// Sees every customer's alerts.
    #[arg(
        long,
        conflicts_with = "customer",
        required_unless_present = "customer"
    )]
    operator: bool,
    /// Sees only this customer's alerts (its watchlist's `customer` id).
    #[arg(long)]
    customer: Option<String>,
    /// viewer reads; analyst also triages.
    #[arg(long, value_enum, default_value_t = RoleArg::Analyst)]
    role: RoleArg,
    /// Expires after this span (90d, 12h); default: never.
    #[arg(long)]
    expires: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    Viewer,
    Analyst,
}

pub(crate) fn run(global: &GlobalArgs, command: TokenCommand) -> anyhow::Result<ExitCode> {
    let data_dir = paths::data_dir(global.data_dir.as_deref())?;
    let store = AlertStore::open(&paths::state_db(&data_dir))?;
    match command {
        TokenCommand::Create(args) => {
            let scope = match (args.operator, args.customer) {
                (_, Some(c)) => Scope::Customer(c),
                _ => Scope::Operator,
            };
            let role = match args.role {
                RoleArg::Viewer => Role::Viewer,
                RoleArg::Analyst => Role::Analyst,
            };
            let expires = args.expires.as_deref().map(expiry_from_now).transpose()?;
            let value = store.create_token(&args.name, &scope, role, expires)?;
            eprintln!(
                "token {:?} ({scope}, {}) created; it is shown only now:",
                args.name,
                role.as_str()
            );
            println!("{value}");
        }
        TokenCommand::List { json } => {
            let tokens = store.tokens()?;
            let now = chrono::Utc::now();
            for t in &tokens {
                if json {
                    println!("{}", serde_json::to_string(t)?);
                    continue;
                }
                let state = match (&t.revoked, t.is_live(now)) {
                    (Some(at), _) => format!("revoked {at}"),
                    (None, false) => "expired".into(),
                    (None, true) => "live".into(),
                };
                println!(
                    "{}  {}  {}  created {}  last used {}  expires {}  {state}",
                    t.name,
                    t.scope,
                    t.role.as_str(),
                    t.created,
                    t.last_used.as_deref().unwrap_or("never"),
                    t.expires.as_deref().unwrap_or("never"),
                );
            }
            if !json {
                println!("{} token(s)", tokens.len());
            }
        }
        TokenCommand::Revoke { name } => {
            if !store.revoke_token(&name)? {
                eprintln!("no live token named {name:?} (see `leakwatch token list`)");
                return Ok(ExitCode::from(1));
            }
            println!("revoked {name:?}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
