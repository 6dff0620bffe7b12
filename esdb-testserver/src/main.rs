//! `esdb-testserver [ADDR]`: runs the test server by hand (default `127.0.0.1:2113`) until Ctrl-C,
//! so that the ledger or any EventStoreDB client can be pointed at
//! `esdb://127.0.0.1:2113?tls=false`. The data lives in memory and is gone when it exits.

use std::net::SocketAddr;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let arg = std::env::args().nth(1);
    let addr: SocketAddr = match arg.as_deref().unwrap_or("127.0.0.1:2113").parse() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("地址无效 (not an address such as 127.0.0.1:2113): {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let server = match esdb_testserver::start(addr).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("无法监听 {addr} (cannot listen on {addr}): {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!(
        "esdb-testserver listening; connect with {}",
        server.connection_string()
    );
    let _ = tokio::signal::ctrl_c().await;
    server.stop().await;
    std::process::ExitCode::SUCCESS
}
