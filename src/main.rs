mod cli;

use clap::Parser;

fn main() {
    // `storyscore search … | head` ends quietly when the reader goes away, as CLI tools do,
    // instead of panicking on a failed print.
    // SAFETY: restoring the default disposition of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = cli::Cli::parse();
    if let Ok(dirs) = storyscore::config::Dirs::resolve() {
        storyscore::logging::init(&dirs.log_file());
    }
    if let Err(e) = cli::run(cli) {
        tracing::error!("{e:#}");
        eprintln!("storyscore: error: {e:#}");
        std::process::exit(1);
    }
}
