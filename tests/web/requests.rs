//! Requests of every size and speed, sent raw over a socket as a careless or hostile client would:
//! addresses and headers too long, malformed encodings, forms too large or too odd, bodies and
//! heads trickled a byte at a time, and an answer nobody reads. Each gets a clear 4xx page of
//! ours, or is cut off after the stated time.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::browser::{Browser, sql};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// Sends `request` as is and reads the answer until the server closes or `wait` passes. The
/// socket is driven on a thread of its own: the server's tasks share this test's runtime.
async fn raw(app: &TestApp, request: &[u8], wait: Duration) -> String {
    let (address, request) = (address(app), request.to_vec());
    blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(wait)).unwrap();
        stream.write_all(&request).unwrap();
        read_all(&mut stream)
    })
    .await
}

fn address(app: &TestApp) -> std::net::SocketAddr {
    app.origin.trim_start_matches("http://").parse().unwrap()
}

/// Runs `work` on a thread of its own, letting the server run meanwhile.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    actix_web::rt::task::spawn_blocking(work).await.unwrap()
}

fn read_all(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

fn status_of(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "no status in {:?}",
                answer.chars().take(200).collect::<String>()
            )
        })
}

/// Asserts an answer is a page of ours with `status` that says `words`.
fn assert_page(answer: &str, status: u16, words: &str) {
    let start: String = answer.chars().take(400).collect();
    assert_eq!(status_of(answer), status, "{start}");
    assert!(
        answer.contains("<!DOCTYPE html>"),
        "a page of ours: {start}"
    );
    assert!(answer.contains(words), "{words:?} is not in the answer");
    for leak in ["panicked", "serde", "SQLITE", "payload reached"] {
        assert!(!answer.contains(leak), "{leak}");
    }
}

fn get(path: &str, extra: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n").into_bytes()
}

fn post_form(path: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Sec-Fetch-Site: same-origin\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

const WAIT: Duration = Duration::from_secs(10);

#[actix_web::test]
async fn addresses_and_headers_too_long_get_pages_of_ours() {
    let app = spawn_app().await;
    let long = format!("/search?q={}", "a".repeat(9_000));
    assert_page(&raw(&app, &get(&long, ""), WAIT).await, 414, "too long");
    let cookie = format!("Cookie: x={}\r\n", "b".repeat(17_000));
    assert_page(&raw(&app, &get("/", &cookie), WAIT).await, 431, "headers");
}

#[actix_web::test]
async fn malformed_addresses_get_a_clear_400_page() {
    let app = spawn_app().await;
    for (query, words) in [
        ("q=%zz", "hexadecimal"),
        ("q=%ff%fe", "UTF-8"),
        ("q=a%00b", "NUL"),
    ] {
        let answer = raw(&app, &get(&format!("/search?{query}"), ""), WAIT).await;
        assert_page(&answer, 400, words);
    }
    // Absurd numbers are answered as pages that do not exist, not as errors.
    let answer = raw(
        &app,
        &get("/articles?page=99999999999999999999999999", ""),
        WAIT,
    )
    .await;
    assert_page(&answer, 404, "couldn’t find");
    let answer = raw(&app, &get("/articles?page=999999", ""), WAIT).await;
    assert_eq!(status_of(&answer), 404);
}

#[actix_web::test]
async fn malformed_forms_get_a_clear_400_page_and_change_nothing() {
    let app = spawn_app().await;
    let many: Vec<String> = (0..300).map(|n| format!("f{n}=x")).collect();
    for (body, words) in [
        (b"email=%zz&password=x".to_vec(), "hexadecimal"),
        (b"email=%ff&password=x".to_vec(), "UTF-8"),
        (b"email=a%00b&password=x".to_vec(), "NUL"),
        (b"email=a&email=b&password=x".to_vec(), "twice"),
        (many.join("&").into_bytes(), "fields"),
    ] {
        let answer = raw(&app, &post_form("/login", &body), WAIT).await;
        assert_page(&answer, 400, words);
    }
    assert_eq!(
        crate::browser::count(&app, "SELECT count(*) AS n FROM throttle_events"),
        0,
        "no attempt was even counted"
    );
}

#[actix_web::test]
async fn a_form_too_large_gets_413_with_what_fit_and_never_the_password() {
    let app = spawn_app().await;
    let mut body = b"email=ana%40example.com&password=secret+phrase&filler=".to_vec();
    body.extend(std::iter::repeat_n(b'x', 70 * 1024));
    let answer = raw(&app, &post_form("/login", &body), WAIT).await;
    assert_page(&answer, 413, "too much");
    assert!(answer.contains("value=\"ana@example.com\""), "kept");
    assert!(!answer.contains("secret phrase") && !answer.contains("secret+phrase"));
}

#[actix_web::test]
async fn the_editor_takes_a_long_article_in_any_alphabet_up_to_its_own_limit() {
    let app = spawn_app().await;
    let editor = Browser::new(&app);
    editor
        .sign_up("Eda", "eda@example.com", "correct horse battery")
        .await;
    sql(
        &app,
        "UPDATE users SET role = 'editor' WHERE email = 'eda@example.com'",
    );
    // 150,000 Cyrillic characters: 300 KB of UTF-8, 1.35 MB as a browser sends it.
    let long = "Ж".repeat(150_000);
    let form = editor.visit("/admin/articles/new").await;
    let saved = editor
        .submit(
            &form,
            "form.form[action='/admin/articles/new']",
            &[
                ("title", "Долгая статья"),
                ("slug", "a-long-article"),
                ("summary", "Очень длинный текст."),
                ("body", &long),
                ("intent", "save"),
            ],
        )
        .await;
    assert_eq!(
        saved.status,
        actix_web::http::StatusCode::OK,
        "{}",
        saved.text(".form-error, .flash")
    );
    assert_eq!(saved.text(".flash"), "Saved.");
    // One character past the limit: the editor's own message, the text kept.
    let too_long = "Ж".repeat(200_001);
    let refused = editor
        .submit(
            &form,
            "form.form[action='/admin/articles/new']",
            &[
                ("title", "Слишком длинная"),
                ("slug", "too-long"),
                ("summary", "Слишком."),
                ("body", &too_long),
                ("intent", "save"),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    );
    assert!(refused.text("main").contains("at most 200,000 characters"));
    assert!(refused.body.contains(&too_long), "the text is kept");
    assert_eq!(
        crate::browser::count(
            &app,
            "SELECT count(*) AS n FROM articles WHERE slug = 'too-long'"
        ),
        0
    );
}

#[actix_web::test]
async fn a_body_sent_a_byte_at_a_time_is_cut_off_after_the_client_timeout() {
    let app = spawn_app_with(|s| s.client_timeout = Duration::from_secs(2)).await;
    let address = address(&app);
    let (answer, took) = blocking(move || {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    stream
        .write_all(
            b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
              Content-Length: 1000\r\n\r\nemail=",
        )
        .unwrap();
    let started = Instant::now();
    let mut answer = String::new();
    while started.elapsed() < Duration::from_secs(8) {
        let _ = stream.write_all(b"a");
        let mut buffer = [0u8; 8192];
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => answer.push_str(&String::from_utf8_lossy(&buffer[..n])),
            Err(error) if error.kind() == ErrorKind::WouldBlock || error.kind() == ErrorKind::TimedOut => {}
            Err(_) => break,
        }
        if answer.contains("</html>") {
            break;
        }
    }
    (answer, started.elapsed())
    })
    .await;
    assert_page(&answer, 408, "took too long");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[actix_web::test]
async fn a_head_sent_a_byte_at_a_time_is_cut_off_on_a_first_and_on_a_kept_alive_request() {
    let app = spawn_app_with(|s| s.client_timeout = Duration::from_secs(2)).await;
    let address = address(&app);
    for first in [true, false] {
        let (closed, took) = blocking(move || {
            let mut stream = TcpStream::connect(address).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            if !first {
                stream
                    .write_all(b"GET /robots.txt HTTP/1.1\r\nHost: x\r\n\r\n")
                    .unwrap();
                std::thread::sleep(Duration::from_millis(200));
                let mut buffer = [0u8; 8192];
                assert!(stream.read(&mut buffer).unwrap() > 0, "the first answer");
            }
            let started = Instant::now();
            let head =
                b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
            let mut closed = false;
            for byte in head.iter().cycle().take(200) {
                if stream.write_all(&[*byte]).is_err() {
                    closed = true;
                    break;
                }
                let mut buffer = [0u8; 8192];
                match stream.read(&mut buffer) {
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    Ok(_) => {}
                    Err(error)
                        if error.kind() == ErrorKind::WouldBlock
                            || error.kind() == ErrorKind::TimedOut => {}
                    Err(_) => {
                        closed = true;
                        break;
                    }
                }
                if started.elapsed() > Duration::from_secs(8) {
                    break;
                }
            }
            (closed, started.elapsed())
        })
        .await;
        assert!(closed, "first request: {first}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    }
}

#[actix_web::test]
async fn an_answer_nobody_reads_is_cut_off_after_the_client_timeout() {
    let app = spawn_app_with(|s| s.client_timeout = Duration::from_secs(2)).await;
    // A large image, as an editor might upload.
    let hash = "0123456789abcdef0123456789abcdef";
    {
        use diesel::prelude::*;
        use guidepost::db::schema::images;
        // Bytes that do not compress, as a photograph's.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let bytes: Vec<u8> = (0..8_000_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            })
            .collect();
        diesel::insert_into(images::table)
            .values((
                images::hash.eq(hash),
                images::content_type.eq("image/png"),
                images::name.eq("big.png"),
                images::byte_size.eq(8_000_000),
                images::created_at.eq(guidepost::db::now()),
                images::bytes.eq(bytes),
            ))
            .execute(&mut crate::browser::database(&app))
            .unwrap();
        crate::browser::wait_until_noticed(&app);
    }
    let address = address(&app);
    let (received, headers_arrived) = blocking(move || {
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        socket.connect(&address.into()).unwrap();
        let mut stream: TcpStream = socket.into();
        stream
            .write_all(format!("GET /images/{hash}.png HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .unwrap();
        // The client reads nothing for three times the timeout...
        std::thread::sleep(Duration::from_secs(6));
        // ...and then finds the answer was cut off: far less than the image arrives.
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut received = 0usize;
        let mut start = Vec::new();
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match stream.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if start.len() < 64 {
                        start.extend_from_slice(&buffer[..n.min(64)]);
                    }
                    received += n;
                }
            }
        }
        (received, start.starts_with(b"HTTP/1.1 200"))
    })
    .await;
    assert!(headers_arrived, "the answer began");
    assert!(received < 8_000_000, "received {received} bytes");
}

#[actix_web::test]
async fn a_form_too_large_from_another_site_gets_nothing_given_back() {
    let app = spawn_app().await;
    let mut body = b"name=Eve&please_re_enter_your_password=x&filler=".to_vec();
    body.extend(std::iter::repeat_n(b'x', 70 * 1024));
    let forged = String::from_utf8(post_form("//evil.example/login", &body))
        .unwrap()
        .replace(
            "Sec-Fetch-Site: same-origin",
            "Origin: https://evil.example",
        );
    let answer = raw(&app, forged.as_bytes(), WAIT).await;
    assert_eq!(status_of(&answer), 413);
    assert!(!answer.contains("kept-form"), "no form is given back");
    assert!(!answer.contains("evil.example"));
}
