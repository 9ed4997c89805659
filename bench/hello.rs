//! The benchmark's ceiling: the smallest actix-web server, answering "Hello, world!" on `/`.
//! `bench/run` measures it in the same run as Guidepost, so every figure has a reference taken on
//! the same machine at the same moment.
//!
//! Given a file as its second argument, it also serves that file's bytes on `/page` with the
//! headers a Guidepost page carries (gzip-encoded body, the same security headers, an ETag): the cost of
//! sending a real page with nothing behind it.

use actix_web::{App, HttpResponse, HttpServer, web};
use guidepost::startup::SECURITY_HEADERS;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let bind = args.next().unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    let page: web::Bytes = match args.next() {
        Some(path) => std::fs::read(path)?.into(),
        None => web::Bytes::new(),
    };
    HttpServer::new(move || {
        let page = page.clone();
        App::new()
            .route("/", web::get().to(|| async { "Hello, world!" }))
            .route(
                "/page",
                web::get().to(move || {
                    let page = page.clone();
                    async move {
                        let mut response = HttpResponse::Ok();
                        response
                            .content_type("text/html; charset=utf-8")
                            .insert_header(("content-encoding", "gzip"))
                            .insert_header(("etag", "W/\"0123456789abcdef\""))
                            .insert_header(("cache-control", "no-cache"))
                            .insert_header(("vary", "accept-encoding"))
                            .insert_header(("x-request-id", "0123456789abcdef"));
                        for header in SECURITY_HEADERS {
                            response.insert_header(*header);
                        }
                        response.body(page)
                    }
                }),
            )
    })
    .bind(bind)?
    .run()
    .await
}
