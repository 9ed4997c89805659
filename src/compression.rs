//! Response compression: gzip for text bodies, when the browser accepts it. Our own middleware
//! rather than actix-web's `Compress`, for reasons measured in `bench/run` on an uncached 21 KB
//! article: actix-web's brotli starts every stream with a 4 MiB window and its hash tables whatever
//! the size of the page, which cost more than rendering the page and pushed resident memory past
//! 100 MB under load; its gzip went through miniz_oxide at ~0.45 ms a page. gzip through zlib-rs
//! takes ~0.15 ms for a body as small as brotli's at the quality it could afford (within 2 %).
//!
//! Bodies are compressed whole (every page is rendered in full before it is sent): small ones on
//! the worker, where compressing costs less than handing them to another thread, large ones (the
//! feed, the sitemap) on the blocking pool.

use std::io::Write as _;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{Error, HttpResponse};

/// Bodies shorter than this are sent as they are: the headers would cost more than the saving.
const MIN_BYTES: usize = 1024;
/// Bodies up to this size are compressed on the worker; larger ones on the blocking pool.
const INLINE_MAX_BYTES: usize = 96 * 1024;
/// zlib's own default balance of size and speed.
const GZIP_LEVEL: u32 = 6;

/// True when the request's `Accept-Encoding` accepts gzip (by name or `*`, without `q=0`).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

fn is_compressible(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    content_type.starts_with("text/")
        || content_type.starts_with("application/xml")
        || content_type.starts_with("application/atom+xml")
        || content_type.starts_with("application/json")
        || content_type.starts_with("image/svg+xml")
}

/// Compresses `body`; the encoder writes into memory, so the only failure would be a bug in it.
pub fn gzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 3),
        flate2::Compression::new(GZIP_LEVEL),
    );
    encoder.write_all(body)?;
    encoder.finish()
}

/// A response body as one piece of memory, or `None` (logged) when producing it failed.
pub(crate) async fn whole_body<B: MessageBody>(body: B) -> Option<Bytes> {
    match body.try_into_bytes() {
        Ok(bytes) => Some(bytes),
        Err(body) => match actix_web::body::to_bytes(body).await {
            Ok(bytes) => Some(bytes),
            Err(error) => {
                let error: Box<dyn std::error::Error> = error.into();
                tracing::error!("a response body failed: {error}");
                None
            }
        },
    }
}

/// The middleware; see the module documentation.
pub async fn compress(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let wanted = accepts_gzip(req.headers());
    let res = next.call(req).await?;
    if res.status() != StatusCode::OK
        || !is_compressible(res.headers())
        || res.headers().contains_key(header::CONTENT_ENCODING)
    {
        return Ok(res.map_into_boxed_body());
    }
    let (http_req, response) = res.into_parts();
    let (mut head, body) = response.into_parts();
    head.headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    let Some(body) = whole_body(body).await else {
        let failed = HttpResponse::InternalServerError().finish();
        return Ok(ServiceResponse::new(http_req, failed));
    };
    if !wanted || body.len() < MIN_BYTES {
        return Ok(ServiceResponse::new(http_req, head.set_body(body)).map_into_boxed_body());
    }
    let compressed = if body.len() <= INLINE_MAX_BYTES {
        gzip(&body)
    } else {
        let large = body.clone();
        web::block(move || gzip(&large)).await?
    };
    let response: HttpResponse<Bytes> = match compressed {
        Ok(compressed) => {
            head.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            head.set_body(Bytes::from(compressed))
        }
        Err(error) => {
            tracing::warn!("a response could not be compressed, sent as it is: {error}");
            head.set_body(body)
        }
    };
    Ok(ServiceResponse::new(http_req, response).map_into_boxed_body())
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    fn accepting(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn gzip_is_used_when_accepted_and_never_when_refused() {
        assert!(accepts_gzip(&accepting("gzip, deflate, br, zstd")));
        assert!(accepts_gzip(&accepting("br;q=1.0, *;q=0.5")));
        assert!(!accepts_gzip(&accepting("br, gzip;q=0")));
        assert!(!accepts_gzip(&accepting("identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn a_compressed_body_decompresses_to_the_original() {
        let page = "<p>Back-end developers build what users never see.</p>\n".repeat(400);
        let compressed = gzip(page.as_bytes()).unwrap();
        let mut decoded = String::new();
        flate2::read::GzDecoder::new(&compressed[..])
            .read_to_string(&mut decoded)
            .unwrap();
        assert_eq!(decoded, page);
        assert!(compressed.len() < page.len() / 10);
    }
}
