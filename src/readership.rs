//! Counting article views without slowing pages: each worker counts the `200 OK` answers to
//! `GET /articles/{slug}` (page-cache hits included, since most views are hits) in a map of its
//! own, and hands the map over every few seconds to the background task, which adds the counts to
//! `page_views` in one transaction (see [`crate::jobs`]). Nothing about the reader is kept: a view
//! is an article, a day and a number. Counts not handed over yet are lost if the process is killed.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, web};

/// Views per article slug.
pub type Counts = HashMap<String, u64>;

/// How often a worker hands its counts over, at most.
const HAND_OVER_EVERY: Duration = Duration::from_secs(2);

/// Where workers send their counts.
#[derive(Debug)]
pub struct Readership {
    sender: Mutex<Sender<Counts>>,
    /// False when the operator turned counting off (`--no-view-counts`).
    enabled: bool,
}

impl Readership {
    /// The counter, and the receiving end for the background task.
    pub fn new(enabled: bool) -> (Self, Receiver<Counts>) {
        let (sender, receiver) = channel();
        (
            Self {
                sender: Mutex::new(sender),
                enabled,
            },
            receiver,
        )
    }
}

thread_local! {
    static LOCAL: RefCell<(Counts, Option<Instant>)> = RefCell::new((HashMap::new(), None));
    static SENDER: RefCell<Option<Sender<Counts>>> = const { RefCell::new(None) };
}

fn count(readership: &Readership, slug: &str) {
    let full = LOCAL.with(|local| {
        let mut local = local.borrow_mut();
        *local.0.entry(slug.to_owned()).or_insert(0) += 1;
        let since = *local.1.get_or_insert_with(Instant::now);
        (since.elapsed() >= HAND_OVER_EVERY).then(|| {
            local.1 = Some(Instant::now());
            std::mem::take(&mut local.0)
        })
    });
    let Some(counts) = full else { return };
    SENDER.with(|sender| {
        let mut sender = sender.borrow_mut();
        if sender.is_none() {
            *sender = readership.sender.lock().ok().map(|s| s.clone());
        }
        if let Some(sender) = sender.as_ref() {
            let _ = sender.send(counts);
        }
    });
}

/// The middleware; see the module documentation.
pub async fn count_views(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let slug = (req.method() == Method::GET)
        .then(|| req.path().strip_prefix("/articles/"))
        .flatten()
        .filter(|slug| !slug.is_empty() && !slug.contains('/') && slug.len() <= 120)
        .map(str::to_owned);
    let readership = req
        .app_data::<web::Data<Readership>>()
        .filter(|r| r.enabled)
        .cloned();
    let res = next.call(req).await?;
    if let (Some(slug), Some(readership)) = (slug, readership)
        && res.status() == StatusCode::OK
    {
        count(&readership, &slug);
    }
    Ok(res)
}

/// Everything waiting on `receiver`, merged.
pub fn drain(receiver: &Receiver<Counts>) -> Counts {
    let mut all = Counts::new();
    while let Ok(counts) = receiver.try_recv() {
        for (slug, n) in counts {
            *all.entry(slug).or_insert(0) += n;
        }
    }
    all
}
