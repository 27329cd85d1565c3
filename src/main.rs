mod cli;

use clap::Parser;

fn main() {
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
