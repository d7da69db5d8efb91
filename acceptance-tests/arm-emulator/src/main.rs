//! The `arm-emulator` binary: parse flags, start the server, print its info, wait for a signal.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match arm_emulator::cli::parse_args(std::env::args().skip(1)) {
        Ok(Some(c)) => c,
        Ok(None) => {
            println!("{}", arm_emulator::cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("arm-emulator: {e}\n\n{}", arm_emulator::cli::USAGE);
            return ExitCode::from(2);
        }
    };
    let emulator = match arm_emulator::start(config).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("arm-emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    match serde_json::to_string(emulator.info()) {
        Ok(line) => println!("{line}"),
        Err(e) => eprintln!("arm-emulator: cannot render info: {e}"),
    }
    wait_for_signal().await;
    eprintln!("arm-emulator: shutting down");
    emulator.shutdown().await;
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
