//! The `reservoir` command: a thin shell over [`reservoir::start`].

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

use reservoir::DroppedLogLines;
use reservoir::Storage;
use reservoir::config::{Cli, Command, ExportArgs, ImportArgs, LogFormat, Settings};
use reservoir_domain::account::AccountId;

/// mimalloc rather than the system allocator: a listing allocates and frees many small
/// strings and a large response per request, and glibc's allocator spends a fifth of a
/// large `DescribeVpcs` in malloc, free and returning pages to the kernel (measured in
/// `cargo bench -p reservoir-server --bench requests`, which uses it too). Built without
/// transparent huge pages (`no_thp`): with them an idle server's memory doubles (10 MiB
/// to 21 MiB).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Log lines waiting for stderr; more are dropped (and counted) rather than wait.
const LOG_BUFFER_LINES: usize = 8192;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let args = match cli.command {
        Command::Serve(args) => args,
        Command::Export(args) => return finish(export(args)),
        Command::Import(args) => return finish(import(args)),
    };
    let mut settings = match args.settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("reservoir: {e}");
            return ExitCode::from(2);
        }
    };
    // Held until main returns: dropping it writes out the lines still buffered.
    let (_log_guard, dropped) = init_logging(&settings);
    settings.server.log_lines_dropped = dropped;
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("reservoir: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("reservoir: {e}");
            ExitCode::FAILURE
        }
    }
}

fn finish(r: Result<(), String>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("reservoir: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `reservoir export`: one read snapshot of the store, written as text.
fn export(args: ExportArgs) -> Result<(), String> {
    let storage = args.store.storage()?;
    if let Storage::File(path) = &storage
        && !path.exists()
    {
        return Err(format!("{}: no such database", path.display()));
    }
    if let Some(account) = &args.account
        && AccountId::parse(account).is_none()
    {
        return Err(format!("--account {account:?}: an account id is 12 digits"));
    }
    let store = reservoir::open_store(&storage).map_err(|e| format!("opening the store: {e}"))?;
    let doc = reservoir_store::transfer::export(&*store, args.account.as_deref()).map_err(|e| e.to_string())?;
    store.close().map_err(|e| e.to_string())?;
    let text = reservoir_store::transfer::to_text(&doc);
    match &args.output {
        Some(path) => std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display())),
        None => std::io::stdout().lock().write_all(text.as_bytes()).map_err(|e| e.to_string()),
    }
}

/// `reservoir import FILE`: the document into an empty store, in one transaction.
fn import(args: ImportArgs) -> Result<(), String> {
    let text = if args.file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|e| format!("reading stdin: {e}"))?
    } else {
        std::fs::read_to_string(&args.file).map_err(|e| format!("reading {}: {e}", args.file.display()))?
    };
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", args.file.display()))?;
    let store = reservoir::open_store(&args.store.storage()?).map_err(|e| format!("opening the store: {e}"))?;
    let loaded = reservoir_store::transfer::import(&*store, &doc).map_err(|e| e.to_string())?;
    store.close().map_err(|e| e.to_string())?;
    eprintln!("reservoir: imported {} rows", loaded.rows);
    Ok(())
}

/// Logs go to stderr (stdout's first line is the listening address, for scripts), written
/// by a thread of their own: a request never waits for stderr. When the reader of stderr
/// falls behind and the buffer is full, lines are dropped and counted instead.
fn init_logging(settings: &Settings) -> (WorkerGuard, DroppedLogLines) {
    let filter = EnvFilter::try_new(&settings.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(LOG_BUFFER_LINES)
        .thread_name("reservoir-log")
        .finish(std::io::stderr());
    let errors = writer.error_counter();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal());
    match settings.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
    (guard, DroppedLogLines::new(move || errors.dropped_lines() as u64))
}

async fn serve(settings: Settings) -> Result<(), Box<dyn std::error::Error>> {
    // Install the signal handlers before announcing the address: a supervisor may send
    // SIGTERM as soon as it has read it, and that must shut down cleanly, not kill.
    let shutdown = ShutdownSignal::install()?;
    let storage = settings.server.storage.clone();
    let server = reservoir::start(settings.server, settings.listen).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", server.url())?;
        out.flush()?;
    }
    tracing::info!(url = %server.url(), store = server.store_kind().as_str(), ?storage, "Reservoir is ready");
    shutdown.recv().await;
    tracing::info!("shutting down: finishing in-flight requests");
    server.stop().await?;
    tracing::info!("stopped");
    Ok(())
}

/// SIGINT (Ctrl-C) or SIGTERM, listened for from the moment it is installed.
#[cfg(unix)]
struct ShutdownSignal {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl ShutdownSignal {
    fn install() -> std::io::Result<ShutdownSignal> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(ShutdownSignal { interrupt: signal(SignalKind::interrupt())?, terminate: signal(SignalKind::terminate())? })
    }

    async fn recv(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

#[cfg(not(unix))]
struct ShutdownSignal;

#[cfg(not(unix))]
impl ShutdownSignal {
    fn install() -> std::io::Result<ShutdownSignal> {
        Ok(ShutdownSignal)
    }

    async fn recv(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
