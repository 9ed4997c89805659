//! The benchmark's ceiling: the smallest actix-web server, answering "Hello, world!" on `/`.
//! `bench/run` measures it in the same run as Guidepost, so every figure has a reference taken on
//! the same machine at the same moment.

use actix_web::{App, HttpServer, web};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    HttpServer::new(|| App::new().route("/", web::get().to(|| async { "Hello, world!" })))
        .bind(bind)?
        .run()
        .await
}
