//! The server's side of the TCP connections: no Nagle delay, and no delayed acknowledgements.
//!
//! Why: the `kurrentdb` client's connector leaves Nagle's algorithm on, so it holds back the second
//! small frame of a call until the first is acknowledged; with the kernel's delayed ACK on the
//! server side that costs about 40 ms per call on loopback, which would swamp every measurement of
//! the adapter. Acknowledging at once (Linux `TCP_QUICKACK`, which the kernel clears again as it
//! pleases, so it is set after every read) removes the stall without touching the client.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tonic::transport::server::{Connected, TcpConnectInfo};

/// An accepted connection that acknowledges what it reads at once.
pub(crate) struct QuickAck(TcpStream);

impl QuickAck {
    fn new(stream: TcpStream) -> Self {
        let _ = stream.set_nodelay(true);
        let quick = QuickAck(stream);
        quick.ack_now();
        quick
    }

    #[cfg(target_os = "linux")]
    fn ack_now(&self) {
        use std::os::fd::AsRawFd;
        let on: libc::c_int = 1;
        // SAFETY: a plain setsockopt on a socket this value owns, with a correctly sized int.
        unsafe {
            libc::setsockopt(
                self.0.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_QUICKACK,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn ack_now(&self) {}
}

impl AsyncRead for QuickAck {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let result = Pin::new(&mut self.0).poll_read(cx, buf);
        if result.is_ready() {
            self.ack_now();
        }
        result
    }
}

impl AsyncWrite for QuickAck {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

impl Connected for QuickAck {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.0.connect_info()
    }
}

/// The accepted connections of `listener`, as [`QuickAck`]s.
pub(crate) fn incoming(
    listener: TcpListener,
) -> impl futures_core::Stream<Item = std::io::Result<QuickAck>> {
    tokio_stream::wrappers::TcpListenerStream::new(listener).map(|r| r.map(QuickAck::new))
}
