//! A local stand-in for Stripe, for the tests: an actix server on 127.0.0.1 that keeps state for
//! the calls Guidepost makes (customers, products, prices, webhook endpoints, Checkout sessions,
//! subscriptions, the customer portal), answers with objects built from Stripe's published
//! fixtures, serves a small hosted-checkout page with a Pay and a Decline button, and sends signed
//! webhooks to the endpoint Guidepost set up. Every request is checked against Stripe's OpenAPI
//! schema for its operation and against the headers Stripe expects; what does not fit is kept in
//! [`StandIn::violations`], which tests assert empty.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use super::contract;

/// The secret key the stand-in takes.
pub const SECRET_KEY: &str = "sk_test_standin_4242424242";

#[derive(Default)]
struct State {
    counter: u64,
    objects: HashMap<String, Value>,
    /// Idempotency key → the answer given.
    answered: HashMap<String, Value>,
    webhook: Option<(String, String)>,
    violations: Vec<String>,
    requests: Vec<String>,
    /// Events not delivered yet, while delivery is held.
    held: Option<Vec<Value>>,
    /// What each delivery got back: (event type, status).
    deliveries: Vec<(String, u16)>,
}

#[derive(Clone)]
pub struct StandIn {
    pub url: String,
    state: Arc<Mutex<State>>,
    fixtures: Arc<Value>,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl StandIn {
    /// Starts the stand-in on a free port of 127.0.0.1, in the test's runtime.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let standin = Self {
            url,
            state: Arc::default(),
            fixtures: Arc::new(contract::fixtures()),
        };
        let extract = Arc::new(contract::extract());
        let data = web::Data::new(standin.clone());
        let extract = web::Data::new(extract);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(extract.clone())
                .app_data(web::PayloadConfig::new(1 << 20))
                .route("/checkout/{id}", web::get().to(checkout_page))
                .route("/checkout/{id}/{choice}", web::post().to(checkout_choice))
                .route("/portal/{id}", web::get().to(portal_page))
                .route("/portal/{id}/cancel", web::post().to(portal_cancel))
                .default_service(web::to(api))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        standin
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    pub fn violations(&self) -> Vec<String> {
        self.with(|s| s.violations.clone())
    }

    /// Every API request, as "METHOD /path".
    pub fn requests(&self) -> Vec<String> {
        self.with(|s| s.requests.clone())
    }

    pub fn deliveries(&self) -> Vec<(String, u16)> {
        self.with(|s| s.deliveries.clone())
    }

    pub fn object(&self, id: &str) -> Value {
        self.with(|s| s.objects.get(id).cloned().unwrap_or(Value::Null))
    }

    /// Objects of a kind (`"cus"`, `"sub"`, `"cs"`…), oldest first.
    pub fn ids(&self, prefix: &str) -> Vec<String> {
        let mut ids: Vec<(u64, String)> = self.with(|s| {
            s.objects
                .keys()
                .filter(|k| k.starts_with(&format!("{prefix}_")))
                .map(|k| {
                    (
                        k.rsplit('_').next().unwrap().parse().unwrap_or(0),
                        k.clone(),
                    )
                })
                .collect()
        });
        ids.sort();
        ids.into_iter().map(|(_, id)| id).collect()
    }

    /// The endpoint's signing secret, once Guidepost made it.
    pub fn webhook_secret(&self) -> Option<String> {
        self.with(|s| s.webhook.as_ref().map(|(_, secret)| secret.clone()))
    }

    /// Keeps events instead of sending them, until [`Self::release`].
    pub fn hold(&self) {
        self.with(|s| {
            s.held.get_or_insert_with(Vec::new);
        });
    }

    /// Sends the held events, in `order` (indexes into them), and stops holding.
    pub async fn release(&self, order: &[usize]) -> Vec<Value> {
        let held = self.with(|s| s.held.take()).unwrap_or_default();
        for i in order {
            self.send(&held[*i]).await;
        }
        held
    }

    fn next_id(&self, prefix: &str) -> String {
        self.with(|s| {
            s.counter += 1;
            format!("{prefix}_test_{}", s.counter)
        })
    }

    fn fixture(&self, name: &str) -> Value {
        self.fixtures
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("no fixture {name}"))
    }

    /// An event of `kind` about `object`, sent at once unless delivery is held.
    pub async fn emit(&self, kind: &str, object: Value) -> u16 {
        let mut event = self.fixture("event");
        event["id"] = json!(self.next_id("evt"));
        event["type"] = json!(kind);
        event["created"] = json!(now());
        event["api_version"] = json!(guidepost::billing::API_VERSION);
        event["data"] = json!({ "object": object });
        let held = self.with(|s| match &mut s.held {
            Some(held) => {
                held.push(event.clone());
                true
            }
            None => false,
        });
        if held { 0 } else { self.send(&event).await }
    }

    /// Delivers `event` signed now; the status Guidepost answered.
    pub async fn send(&self, event: &Value) -> u16 {
        let body = serde_json::to_vec(event).unwrap();
        self.send_raw(&body, now()).await
    }

    /// Delivers `body` signed at `timestamp` with the endpoint's secret.
    pub async fn send_raw(&self, body: &[u8], timestamp: i64) -> u16 {
        let (url, secret) = self
            .with(|s| s.webhook.clone())
            .expect("no webhook endpoint");
        let header = guidepost::billing::signature::header(&secret, timestamp, body);
        self.post_signed(&url, body, &header).await
    }

    pub async fn post_signed(&self, url: &str, body: &[u8], header: &str) -> u16 {
        let mut response = awc::Client::default()
            .post(url)
            .insert_header(("Stripe-Signature", header))
            .content_type("application/json")
            .send_body(body.to_vec())
            .await
            .unwrap();
        let _ = response.body().await;
        let status = response.status().as_u16();
        let kind = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|e| e["type"].as_str().map(str::to_owned))
            .unwrap_or_default();
        self.with(|s| s.deliveries.push((kind, status)));
        status
    }

    fn store(&self, object: Value) -> Value {
        let id = object["id"].as_str().unwrap().to_owned();
        self.with(|s| s.objects.insert(id, object.clone()));
        object
    }

    fn subscription_object(
        &self,
        id: &str,
        customer: &str,
        price: &Value,
        trial_end: Option<i64>,
        member: &Value,
    ) -> Value {
        let start = now();
        let period_end = trial_end.unwrap_or(start + period(price));
        let mut sub = self.fixture("subscription");
        sub["id"] = json!(id);
        sub["customer"] = json!(customer);
        sub["status"] = json!(if trial_end.is_some() {
            "trialing"
        } else {
            "active"
        });
        sub["start_date"] = json!(start);
        sub["created"] = json!(start);
        sub["trial_start"] = json!(trial_end.map(|_| start));
        sub["trial_end"] = json!(trial_end);
        sub["cancel_at_period_end"] = json!(false);
        sub["cancel_at"] = Value::Null;
        sub["canceled_at"] = Value::Null;
        sub["ended_at"] = Value::Null;
        sub["metadata"] = member.clone();
        let mut item = sub["items"]["data"][0].clone();
        item["price"] = price.clone();
        item["current_period_start"] = json!(start);
        item["current_period_end"] = json!(period_end);
        item["subscription"] = json!(id);
        sub["items"]["data"] = json!([item]);
        sub
    }

    fn invoice_object(&self, sub: &Value, paid: bool) -> Value {
        let price = &sub["items"]["data"][0]["price"];
        let amount = if sub["status"] == "trialing" {
            0
        } else {
            price["unit_amount"].as_i64().unwrap_or(0)
        };
        let mut invoice = self.fixture("invoice");
        invoice["id"] = json!(self.next_id("in"));
        invoice["customer"] = sub["customer"].clone();
        invoice["subscription"] = Value::Null;
        invoice["parent"] = json!({
            "type": "subscription_details",
            "quote_details": null,
            "subscription_details": { "metadata": {}, "subscription": sub["id"].clone() }
        });
        invoice["currency"] = price["currency"].clone();
        invoice["amount_due"] = json!(amount);
        invoice["amount_paid"] = json!(if paid { amount } else { 0 });
        invoice["amount_remaining"] = json!(if paid { 0 } else { amount });
        invoice["status"] = json!(if paid { "paid" } else { "open" });
        invoice["created"] = json!(now());
        self.store(invoice)
    }

    fn update(&self, id: &str, change: impl FnOnce(&mut Value)) -> Value {
        self.with(|s| {
            let object = s.objects.get_mut(id).expect("no such object");
            change(object);
            object.clone()
        })
    }

    /// Checkout paid: the subscription starts (trialing when the session asked for a trial).
    pub async fn pay(&self, session_id: &str) -> Value {
        let session = self.object(session_id);
        let price = self.object(session["line_items_price"].as_str().unwrap());
        let trial_end = session["trial_end"].as_i64();
        let sub_id = self.next_id("sub");
        let customer = session["customer"].as_str().unwrap().to_owned();
        let sub = self.store(self.subscription_object(
            &sub_id,
            &customer,
            &price,
            trial_end,
            &session["subscription_metadata"],
        ));
        let session = self.update(session_id, |s| {
            s["status"] = json!("complete");
            s["payment_status"] = json!(if trial_end.is_some() {
                "no_payment_required"
            } else {
                "paid"
            });
            s["subscription"] = json!(sub_id);
        });
        let invoice = self.invoice_object(&sub, true);
        self.emit("customer.subscription.created", sub.clone())
            .await;
        self.emit("checkout.session.completed", public(&session))
            .await;
        self.emit("invoice.paid", invoice).await;
        sub
    }

    /// A renewal (or a trial's end): paid, the period moves on; declined, past due.
    pub async fn renew(&self, sub_id: &str, pays: bool) -> Value {
        let sub = self.update(sub_id, |sub| {
            let price = sub["items"]["data"][0]["price"].clone();
            sub["trial_end"] = if sub["status"] == "trialing" {
                json!(now() - 1)
            } else {
                sub["trial_end"].clone()
            };
            sub["status"] = json!(if pays { "active" } else { "past_due" });
            let start = now();
            sub["items"]["data"][0]["current_period_start"] = json!(start);
            sub["items"]["data"][0]["current_period_end"] = json!(start + period(&price));
        });
        let invoice = self.invoice_object(&sub, pays);
        self.emit("customer.subscription.updated", sub.clone())
            .await;
        self.emit(
            if pays {
                "invoice.paid"
            } else {
                "invoice.payment_failed"
            },
            invoice,
        )
        .await;
        sub
    }

    /// Stripe gave up on a past-due subscription, or a member cancelled at once: it ends now.
    pub async fn cancel(&self, sub_id: &str) -> Value {
        let sub = self.update(sub_id, |sub| {
            sub["status"] = json!("canceled");
            sub["canceled_at"] = json!(now());
            sub["ended_at"] = json!(now());
        });
        self.emit("customer.subscription.deleted", sub.clone())
            .await;
        sub
    }

    /// The "trial ends in three days" notice.
    pub async fn trial_will_end(&self, sub_id: &str) -> u16 {
        let sub = self.object(sub_id);
        self.emit("customer.subscription.trial_will_end", sub).await
    }
}

/// A session as the API shows it (without the stand-in's own bookkeeping).
fn public(session: &Value) -> Value {
    let mut session = session.clone();
    if let Some(map) = session.as_object_mut() {
        map.remove("line_items_price");
        map.remove("trial_end");
        map.remove("subscription_metadata");
    }
    session
}

fn period(price: &Value) -> i64 {
    if price["recurring"]["interval"] == "year" {
        365 * 86_400
    } else {
        30 * 86_400
    }
}

fn error(status: u16, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).json(
        json!({ "error": { "type": "invalid_request_error", "code": code, "message": message } }),
    )
}

/// Every `/v1/…` call: checked against the contract, then answered.
async fn api(
    req: HttpRequest,
    body: web::Bytes,
    standin: web::Data<StandIn>,
    extract: web::Data<Arc<Value>>,
) -> HttpResponse {
    let method = req.method().as_str().to_owned();
    let path = req.path().to_owned();
    let mut problems = contract::check_request(&extract, &method, &path, &body);
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if header("Authorization").as_deref() != Some(&format!("Bearer {SECRET_KEY}")) {
        return error(401, "api_key_invalid", "Invalid API Key provided");
    }
    if header("Stripe-Version").as_deref() != Some(guidepost::billing::API_VERSION) {
        problems.push(format!("{method} {path}: no pinned Stripe-Version"));
    }
    let key = header("Idempotency-Key");
    if method == "POST" {
        if key.is_none() {
            problems.push(format!(
                "{method} {path}: a POST without an Idempotency-Key"
            ));
        }
        if !header("Content-Type")
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
        {
            problems.push(format!("{method} {path}: not form-encoded"));
        }
    }
    standin.with(|s| {
        s.requests.push(format!("{method} {path}"));
        s.violations.extend(problems.iter().cloned());
    });
    if !problems.is_empty() {
        return error(400, "parameter_invalid", &problems.join("; "));
    }
    if let Some(key) = &key
        && let Some(answer) = standin.with(|s| s.answered.get(key).cloned())
    {
        return HttpResponse::Ok().json(answer);
    }
    let form = contract::decode(&body).unwrap_or(Value::Null);
    let answer = match answer(&standin, &method, &path, &form).await {
        Ok(answer) => answer,
        Err(response) => return response,
    };
    if let Some(key) = key {
        standin.with(|s| s.answered.insert(key, answer.clone()));
    }
    HttpResponse::Ok().json(answer)
}

async fn answer(
    standin: &StandIn,
    method: &str,
    path: &str,
    form: &Value,
) -> Result<Value, HttpResponse> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let missing = |id: &str| error(404, "resource_missing", &format!("No such object: '{id}'"));
    match (method, parts.as_slice()) {
        ("POST", ["v1", "customers"]) => {
            let mut customer = standin.fixture("customer");
            customer["id"] = json!(standin.next_id("cus"));
            customer["email"] = form["email"].clone();
            customer["name"] = form["name"].clone();
            customer["metadata"] = form.get("metadata").cloned().unwrap_or(json!({}));
            Ok(standin.store(customer))
        }
        ("POST", ["v1", "products"]) => {
            let mut product = standin.fixture("product");
            product["id"] = json!(standin.next_id("prod"));
            product["name"] = form["name"].clone();
            Ok(standin.store(product))
        }
        ("POST", ["v1", "prices"]) => {
            let mut price = standin.fixture("price");
            price["id"] = json!(standin.next_id("price"));
            price["product"] = form["product"].clone();
            price["currency"] = form["currency"].clone();
            price["unit_amount"] = json!(
                form["unit_amount"]
                    .as_str()
                    .unwrap()
                    .parse::<i64>()
                    .unwrap()
            );
            price["recurring"] = json!({ "interval": form["recurring"]["interval"], "interval_count": 1, "usage_type": "licensed" });
            price["type"] = json!("recurring");
            Ok(standin.store(price))
        }
        ("POST", ["v1", "webhook_endpoints"]) => {
            let mut endpoint = standin.fixture("webhook_endpoint");
            endpoint["id"] = json!(standin.next_id("we"));
            endpoint["url"] = form["url"].clone();
            endpoint["enabled_events"] = form["enabled_events"].clone();
            endpoint["api_version"] = form["api_version"].clone();
            let secret = format!("whsec_{}", standin.next_id("secret"));
            endpoint["secret"] = json!(secret);
            standin.with(|s| s.webhook = Some((form["url"].as_str().unwrap().to_owned(), secret)));
            Ok(standin.store(endpoint))
        }
        ("POST", ["v1", "checkout", "sessions"]) => {
            let customer = form["customer"].as_str().unwrap_or_default();
            if standin.object(customer).is_null() {
                return Err(missing(customer));
            }
            let price = form["line_items"][0]["price"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if standin.object(&price).is_null() {
                return Err(missing(&price));
            }
            let trial_end = form["subscription_data"]["trial_end"]
                .as_str()
                .map(|t| t.parse::<i64>().unwrap());
            if trial_end.is_some_and(|end| end < now() + 48 * 3600) {
                return Err(error(
                    400,
                    "parameter_invalid_integer",
                    "subscription_data[trial_end] must be at least 48 hours in the future.",
                ));
            }
            let id = standin.next_id("cs");
            let mut session = standin.fixture("checkout.session");
            session["id"] = json!(id);
            session["url"] = json!(format!("{}/checkout/{id}", standin.url));
            session["mode"] = json!("subscription");
            session["customer"] = json!(customer);
            session["client_reference_id"] = form["client_reference_id"].clone();
            session["success_url"] = form["success_url"].clone();
            session["cancel_url"] = form["cancel_url"].clone();
            session["metadata"] = form.get("metadata").cloned().unwrap_or(json!({}));
            session["status"] = json!("open");
            session["payment_status"] = json!("unpaid");
            session["subscription"] = Value::Null;
            session["line_items_price"] = json!(price);
            session["trial_end"] = json!(trial_end);
            session["subscription_metadata"] = form["subscription_data"]
                .get("metadata")
                .cloned()
                .unwrap_or(json!({}));
            Ok(public(&standin.store(session)))
        }
        ("POST", ["v1", "checkout", "sessions", id, "expire"]) => {
            let session = standin.object(id);
            if session.is_null() {
                return Err(missing(id));
            }
            if session["status"] != "open" {
                return Err(error(
                    400,
                    "checkout_session_not_open",
                    "Only open sessions can be expired.",
                ));
            }
            Ok(public(
                &standin.update(id, |s| s["status"] = json!("expired")),
            ))
        }
        ("GET", ["v1", "checkout", "sessions", id]) => match standin.object(id) {
            Value::Null => Err(missing(id)),
            session => Ok(public(&session)),
        },
        ("GET", ["v1", "subscriptions", id]) => match standin.object(id) {
            Value::Null => Err(missing(id)),
            sub => Ok(sub),
        },
        ("DELETE", ["v1", "subscriptions", id]) => {
            if standin.object(id).is_null() {
                return Err(missing(id));
            }
            Ok(standin.cancel(id).await)
        }
        ("DELETE", ["v1", "customers", id]) => {
            if standin.object(id).is_null() {
                return Err(missing(id));
            }
            for sub in standin.ids("sub") {
                let object = standin.object(&sub);
                if object["customer"] == *id && object["status"] != "canceled" {
                    standin.cancel(&sub).await;
                }
            }
            standin.with(|s| s.objects.remove(*id));
            Ok(json!({ "id": id, "object": "customer", "deleted": true }))
        }
        ("POST", ["v1", "billing_portal", "sessions"]) => {
            let customer = form["customer"].as_str().unwrap_or_default();
            if standin.object(customer).is_null() {
                return Err(missing(customer));
            }
            let id = standin.next_id("bps");
            let session = json!({
                "id": id, "object": "billing_portal.session", "customer": customer,
                "return_url": form["return_url"], "url": format!("{}/portal/{id}", standin.url),
                "livemode": false, "created": now(),
            });
            Ok(standin.store(session))
        }
        _ => Err(error(404, "resource_missing", "Unrecognized request URL")),
    }
}

/// The hosted checkout: what is bought, and a Pay and a Decline button.
async fn checkout_page(standin: web::Data<StandIn>, id: web::Path<String>) -> HttpResponse {
    let session = standin.object(&id);
    if session.is_null() {
        return HttpResponse::NotFound().body("no such checkout");
    }
    let price = standin.object(session["line_items_price"].as_str().unwrap_or_default());
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Checkout (stand-in)</title></head>\
         <body><main><h1>Pay {} {} every {}</h1>{}\
         <form method=\"post\" action=\"/checkout/{id}/pay\"><button id=\"pay\" type=\"submit\">Pay</button></form>\
         <form method=\"post\" action=\"/checkout/{id}/decline\"><button id=\"decline\" type=\"submit\">Decline</button></form>\
         <p><a id=\"back\" href=\"{}\">Back</a></p></main></body></html>",
        price["unit_amount"],
        price["currency"].as_str().unwrap_or_default(),
        price["recurring"]["interval"].as_str().unwrap_or_default(),
        if session["trial_end"].is_null() {
            String::new()
        } else {
            format!("<p id=\"trial\">Trial until {}</p>", session["trial_end"])
        },
        session["cancel_url"].as_str().unwrap_or_default(),
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html)
}

async fn checkout_choice(
    standin: web::Data<StandIn>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (id, choice) = path.into_inner();
    let session = standin.object(&id);
    if session.is_null() || session["status"] != "open" {
        return HttpResponse::NotFound().body("no such open checkout");
    }
    if choice != "pay" {
        return HttpResponse::Ok().content_type("text/html; charset=utf-8").body(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Declined</title></head>\
             <body><main><h1 id=\"declined\">Your card was declined.</h1></main></body></html>",
        );
    }
    standin.pay(&id).await;
    let back = session["success_url"]
        .as_str()
        .unwrap()
        .replace("{CHECKOUT_SESSION_ID}", &id);
    HttpResponse::SeeOther()
        .insert_header(("Location", back))
        .finish()
}

async fn portal_page(standin: web::Data<StandIn>, id: web::Path<String>) -> HttpResponse {
    let session = standin.object(&id);
    if session.is_null() {
        return HttpResponse::NotFound().finish();
    }
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Billing (stand-in)</title></head>\
         <body><main><h1>Your billing</h1><form method=\"post\" action=\"/portal/{id}/cancel\">\
         <button id=\"cancel\" type=\"submit\">Cancel at the end of the period</button></form>\
         <p><a id=\"return\" href=\"{}\">Return</a></p></main></body></html>",
        session["return_url"].as_str().unwrap_or_default()
    ))
}

async fn portal_cancel(standin: web::Data<StandIn>, id: web::Path<String>) -> HttpResponse {
    let session = standin.object(&id);
    let customer = session["customer"].as_str().unwrap_or_default().to_owned();
    let subs: Vec<String> = standin.ids("sub");
    for sub in subs {
        let object = standin.object(&sub);
        if object["customer"] == customer.as_str() && object["status"] != "canceled" {
            let updated = standin.update(&sub, |s| {
                s["cancel_at_period_end"] = json!(true);
                s["cancel_at"] = s["items"]["data"][0]["current_period_end"].clone();
            });
            standin.emit("customer.subscription.updated", updated).await;
        }
    }
    HttpResponse::SeeOther()
        .insert_header(("Location", session["return_url"].as_str().unwrap_or("/")))
        .finish()
}
