//! The command line: `serve` (the default), `check`, `eval`, `ask`, `export`, `import`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use herts_assistant::config::Settings;
use herts_assistant::engine::matcher::MatchSettings;
use herts_assistant::{content, eval, startup};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "herts-assistant", version, about = "Hertfordshire County Council's chat assistant")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API, the widget and the demo page (the default).
    Serve,
    /// Validate intents/ and knowledge-base/; errors name the file and line.
    Check,
    /// Measure answer quality on a labelled question set.
    Eval {
        /// JSON lines {"text", "expected"} to score.
        #[arg(long, required_unless_present = "dialogues")]
        test: Option<PathBuf>,
        /// JSON lines of multi-turn scenarios to run through the whole dialogue policy.
        #[arg(long, conflicts_with_all = ["test", "train", "tune"])]
        dialogues: Option<PathBuf>,
        /// JSON lines {"text", "intent"} to train on instead of the shipped content.
        #[arg(long)]
        train: Option<PathBuf>,
        /// JSON lines to choose the out-of-scope threshold on (never the test file).
        #[arg(long)]
        tune: Option<PathBuf>,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Score the test lines with typing slips added, made the same way for the same seed.
        #[arg(long, value_name = "SEED", conflicts_with = "dialogues")]
        typos: Option<u64>,
    },
    /// Answer one question, or several as one conversation, and say why: candidates,
    /// scores, the normalised text and the remembered topic.
    Ask {
        #[arg(required = true)]
        messages: Vec<String>,
        /// Answer each message as a conversation of its own.
        #[arg(long)]
        each: bool,
    },
    /// Write a published version's files (the newest unless --version) from the store into
    /// DIR/intents and DIR/knowledge-base, so content can also be kept in git.
    Export {
        dir: PathBuf,
        #[arg(long)]
        version: Option<u64>,
    },
    /// Load DIR/intents and DIR/knowledge-base into an editor's draft in the store, as their
    /// changes over what is published, to try and submit from the editor page.
    Import {
        dir: PathBuf,
        /// The editor whose draft it becomes (their name in the agents' list).
        #[arg(long)]
        editor: String,
    },
    /// Print the SHA-256 of an agent's token read from standard input (never the command
    /// line, which shell history and `ps` keep), for HA_AGENTS or the config file.
    HashToken,
    /// Print a new random agent or editor token and its SHA-256.
    NewToken,
}

/// The shortest token `hash-token` accepts: `new-token` gives 64 hex digits (32 random bytes).
const MIN_TOKEN_CHARS: usize = 32;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&settings);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Check => check(&settings),
        Command::Eval { dialogues: Some(dialogues), json, .. } => run_dialogues(&settings, &dialogues, json),
        Command::Eval { test: Some(test), train, tune, json, typos, .. } => {
            run_eval(&settings, &test, train.as_deref(), tune.as_deref(), json, typos)
        }
        Command::Eval { .. } => Err("eval needs --test or --dialogues".into()),
        Command::Ask { messages, each } => ask(&settings, &messages, each),
        Command::Export { dir, version } => export(settings, &dir, version),
        Command::Import { dir, editor } => import(settings, &dir, &editor),
        Command::HashToken => hash_token_from_stdin(),
        Command::NewToken => {
            let token = hex::encode(rand::random::<[u8; 32]>());
            println!("token:  {token}\nsha256: {}", herts_assistant::handoff::hash_token(&token));
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn hash_token_from_stdin() -> Result<(), String> {
    let mut token = String::new();
    std::io::stdin().read_line(&mut token).map_err(|e| format!("reading the token: {e}"))?;
    let token = token.trim();
    if token.chars().count() < MIN_TOKEN_CHARS {
        return Err(format!(
            "the token is shorter than {MIN_TOKEN_CHARS} characters; `herts-assistant new-token` makes a strong one"
        ));
    }
    println!("{}", herts_assistant::handoff::hash_token(token));
    Ok(())
}

fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_new(&settings.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

fn serve(settings: Settings) -> Result<(), String> {
    let host = settings.listen.rsplit_once(':').map_or("127.0.0.1", |(h, _)| h).to_string();
    // Built inside the runtime: the Redis connection manager needs one to exist.
    actix_web::rt::System::new().block_on(async move {
        let application = startup::build_application(settings).map_err(|e| e.to_string())?;
        // Tests and scripts read this line to find the port when HA_LISTEN ends in :0.
        println!("listening on http://{host}:{}", application.port());
        application.run_until_stopped().await.map_err(|e| e.to_string())
    })
}

fn export(settings: Settings, dir: &std::path::Path, number: Option<u64>) -> Result<(), String> {
    use herts_assistant::store::ContentStore;
    if settings.redis_url.is_none() {
        return Err("published versions are kept in Redis: set HA_REDIS_URL".into());
    }
    actix_web::rt::System::new().block_on(async move {
        let store = startup::build_store(&settings).map_err(|e| e.to_string())?;
        let number = match number {
            Some(number) => number,
            None => {
                store
                    .current_content()
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or("nothing has been published")?
                    .number
            }
        };
        let (version, files) = store
            .content_version(number)
            .await
            .map_err(|e| e.to_string())?
            .ok_or(format!("there is no version {number} with its files kept"))?;
        files.write(dir).map_err(|e| format!("writing {}: {e}", dir.display()))?;
        println!(
            "version {} ({} by {}, {}) written to {}",
            version.number,
            version.published_at,
            version.author,
            if version.message.is_empty() { "no message" } else { &version.message },
            dir.display()
        );
        Ok(())
    })
}

fn import(settings: Settings, dir: &std::path::Path, editor: &str) -> Result<(), String> {
    use herts_assistant::content::draft::Draft;
    use herts_assistant::store::{ContentStore, DraftStore};
    if settings.redis_url.is_none() {
        return Err("drafts are kept in Redis: set HA_REDIS_URL".into());
    }
    let wanted =
        content::ContentFiles::read(&dir.join(content::INTENTS_FOLDER), &dir.join(content::ARTICLES_FOLDER))
            .map_err(|e| e.to_string())?;
    actix_web::rt::System::new().block_on(async move {
        let store = startup::build_store(&settings).map_err(|e| e.to_string())?;
        // What is live: the newest version, or the folders the service starts with.
        let newest = store.current_content().await.map_err(|e| e.to_string())?;
        let live = match newest {
            Some(version) => {
                store
                    .content_version(version.number)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or("the newest version's files are not kept")?
                    .1
            }
            None => startup::read_content_files(&settings).map_err(|e| e.to_string())?,
        };
        let draft = Draft::between(&live, &wanted);
        store.save_draft(editor, &draft).await.map_err(|e| e.to_string())?;
        println!("{} changed file(s) from {} are now {editor}'s draft", draft.files.len(), dir.display());
        for path in draft.files.keys() {
            println!("  {path}");
        }
        Ok(())
    })
}

fn check(settings: &Settings) -> Result<(), String> {
    let content = content::load(&settings.intents_dir, &settings.knowledge_dir).map_err(|e| e.to_string())?;
    let examples: usize = content.intents.iter().map(|i| i.examples.len()).sum();
    let places = |areas: &[content::District]| areas.iter().map(|d| d.places.len()).sum::<usize>();
    println!(
        "ok: {} intents ({examples} examples), {} articles, {} districts ({} places), {} neighbouring councils ({} places), {} synonyms",
        content.intents.len(),
        content.articles.len(),
        content.districts.len(),
        places(&content.districts),
        content.neighbours.len(),
        places(&content.neighbours),
        content.synonyms.len()
    );
    let today = chrono::Utc::now().date_naive();
    let report = content::review::review(&content, &settings.bank_holidays, today);
    for (label, items) in [("overdue for review", &report.overdue), ("due for review soon", &report.due_soon)]
    {
        for item in items {
            println!(
                "{label}: {} {} ({}), reviewed {}, due {}",
                item.kind, item.id, item.source, item.last_reviewed, item.due
            );
        }
    }
    if !report.bank_holidays_listed_far_enough {
        return Err(format!(
            "bank holidays are listed only until {}: list the next year's (bank_holidays in the config file) so that none is missing 12 months ahead",
            report.bank_holidays_until.as_deref().unwrap_or("(none)")
        ));
    }
    Ok(())
}

fn run_eval(
    settings: &Settings,
    test: &std::path::Path,
    train: Option<&std::path::Path>,
    tune: Option<&std::path::Path>,
    json: bool,
    typos: Option<u64>,
) -> Result<(), String> {
    let test = eval::read_lines(test).map_err(|e| e.to_string())?;
    let test = match typos {
        Some(seed) => eval::with_typos(&test, seed),
        None => test,
    };
    let tune = tune.map(eval::read_lines).transpose().map_err(|e| e.to_string())?;
    let report = match train {
        Some(train) => {
            let train = eval::read_lines(train).map_err(|e| e.to_string())?;
            let defaults = MatchSettings::default();
            let match_settings =
                MatchSettings { threshold: settings.threshold.unwrap_or(defaults.threshold), ..defaults };
            let encoder = settings
                .encoder_dir
                .as_deref()
                .map(startup::load_encoder)
                .transpose()
                .map_err(|e| e.to_string())?;
            eval::run_trained(&train, tune.as_deref(), &test, match_settings, encoder)
        }
        None => {
            let engine = startup::build_engine(settings).map_err(|e| e.to_string())?;
            eval::run_content(engine, tune.as_deref(), &test)
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
    } else {
        eval::print_report(&report);
    }
    Ok(())
}

fn run_dialogues(settings: &Settings, path: &std::path::Path, json: bool) -> Result<(), String> {
    let scenarios = eval::read_scenarios(path).map_err(|e| e.to_string())?;
    let engine = startup::build_engine(settings).map_err(|e| e.to_string())?;
    let report = eval::run_dialogues(&engine, &scenarios);
    if json {
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
    } else {
        eval::print_dialogue_report(&report);
    }
    Ok(())
}

fn ask(settings: &Settings, messages: &[String], each: bool) -> Result<(), String> {
    let engine = startup::build_engine(settings).map_err(|e| e.to_string())?;
    let mut state = herts_assistant::engine::ConversationState::default();
    for (n, message) in messages.iter().enumerate() {
        if messages.len() > 1 {
            println!("\n== turn {}: {message}", n + 1);
        }
        let found = engine.explain(message);
        let turn = engine.reply(&state, message, &Default::default());
        println!("normalised: {}", found.normalised);
        println!("decision:   {}", serde_json::to_string(&found.decision).unwrap_or_default());
        println!("candidates:");
        for candidate in &found.candidates {
            println!("  {:.3}  {}", candidate.confidence, candidate.id);
        }
        println!("matched:    {}", serde_json::to_string(&turn.matched).unwrap_or_default());
        for reply in &turn.replies {
            println!("\n{}", reply.text);
            for link in &reply.links {
                println!("  -> {} <{}>", link.title, link.url);
            }
            if !reply.quick_replies.is_empty() {
                println!("  [{}]", reply.quick_replies.join("] ["));
            }
        }
        println!("topic:      {}", turn.state.topic.as_deref().unwrap_or("-"));
        if !each {
            state = turn.state;
        }
    }
    Ok(())
}
