mod cli;

use clap::Parser;

fn main() {
    // `storyscore search … | head` ends quietly when the reader goes away, as CLI tools do,
    // instead of panicking on a failed print.
    // SAFETY: setting signal dispositions before any thread starts.
    // A file-size limit (`ulimit -f`) makes a write fail with "File too large", reported and
    // cleaned up like a full disk, instead of killing the process mid-write.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
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
