//! Members, for admins: the list with a search (`GET /admin/members`), one member's page with
//! their details and signed-in devices (`GET /admin/members/{id}`), the changes made from it
//! (trial, role, disable or re-enable, delete), and the CSV export. The last active admin cannot
//! be demoted, disabled or deleted.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{AdminNav, Need, actor, allowed, layout, nav, posted, settings};
use crate::auth::Visitor;
use crate::db::audit::{self, member_subject};
use crate::db::member_admin::Undeletable;
use crate::db::sessions::{Device, SessionRow};
use crate::db::users::{ACTIVE, ADMIN, DISABLED, Member, ROLES};
use crate::db::{self};
use crate::domain::Pagination;
use crate::error::AppError;
use crate::routes::account_area::trial_status;
use crate::routes::forms::{render_private, see_other};
use crate::routes::{page_number, query_param};
use crate::views::format::{date_label, rfc3339};
use crate::views::{AppState, Layout};

const PER_PAGE: u32 = 25;
/// What the trial form offers to extend a trial by.
const DEFAULT_EXTENSION_DAYS: &str = "14";

/// A member as the list shows them.
pub struct MemberRow {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub role: String,
    pub status: String,
    pub trial: String,
    /// The paid membership's status, or "complimentary", or "none".
    pub membership: String,
    pub joined: String,
}

#[derive(Template)]
#[template(path = "admin/members.html")]
struct MembersPage {
    layout: Layout,
    nav: AdminNav,
    q: String,
    rows: Vec<MemberRow>,
    total: i64,
    pagination: Pagination,
}

/// A member's paid status in a word or two, for the list.
fn membership_label(member: &Member, now: time::PrimitiveDateTime) -> String {
    match (member.paid_status.as_deref(), member.access(now)) {
        (Some(status), _) => status.replace('_', " "),
        (None, crate::db::users::Access::Complimentary(_)) => "complimentary".to_owned(),
        _ => "none".to_owned(),
    }
}

/// `GET /admin/members`.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, AppError> {
    let member = allowed(&visitor, Need::Admin)?;
    let page = page_number(&req);
    let q = query_param(&req, "q").unwrap_or_default();
    let search = q.clone();
    let settings = settings(&state).await?;
    let (found, total) = db::run(&state.pool, move |conn| {
        Ok(Member::search(
            conn,
            &search,
            page.offset(PER_PAGE),
            PER_PAGE.into(),
        )?)
    })
    .await?;
    let now = db::now();
    let base = format!(
        "/admin/members?{}",
        serde_urlencoded::to_string([("q", q.as_str())]).unwrap_or_default()
    );
    let pagination = Pagination::new(&base, page, PER_PAGE, total).ok_or(AppError::NotFound)?;
    let page = MembersPage {
        layout: layout(&state, &visitor, &settings, "/admin/members", "Members"),
        nav: nav(&member, "members"),
        q,
        rows: found
            .iter()
            .map(|m| MemberRow {
                id: m.id,
                name: m.name.clone(),
                email: m.email.clone(),
                role: m.role.clone(),
                status: m.status.clone(),
                trial: trial_status(m, now),
                membership: membership_label(m, now),
                joined: date_label(m.created_at),
            })
            .collect(),
        total,
        pagination,
    };
    render_private(&page, StatusCode::OK)
}

#[derive(Template)]
#[template(path = "admin/member.html")]
struct MemberPage {
    layout: Layout,
    nav: AdminNav,
    csrf_token: String,
    member: Member,
    trial: String,
    joined: String,
    devices: Vec<(String, String, String)>,
    roles: [&'static str; 3],
    problem: Option<String>,
    /// The trial form's days, as typed, and what is wrong with them.
    days: String,
    days_error: Option<String>,
    /// The paid membership in words ("Trial until …, then 9.00 € a month."), if any.
    membership: Option<String>,
    /// The complimentary grant in words, while one runs.
    complimentary: Option<String>,
    /// The grant form's end date, as typed, and what is wrong with it.
    until: String,
    until_error: Option<String>,
}

/// Why a change was not made: a message for the page, or for the trial form's days field.
enum Refusal {
    Page(String),
    Days { typed: String, message: String },
    Until { typed: String, message: String },
}

async fn member_page(
    state: &AppState,
    visitor: &Visitor,
    id: i32,
    refusal: Option<Refusal>,
) -> Result<MemberPage, AppError> {
    let admin = allowed(visitor, Need::Admin)?;
    let settings = settings(state).await?;
    let (member, devices, subscription) = db::run(&state.pool, move |conn| {
        let member = Member::find(conn, id)?.ok_or(AppError::NotFound)?;
        Ok((
            member,
            Device::for_user(conn, id)?,
            crate::db::billing::current(conn, id)?,
        ))
    })
    .await?;
    let now = db::now();
    let membership = subscription.map(|s| crate::routes::membership::describe(&s, &member));
    let complimentary = match member.access(now) {
        crate::db::users::Access::Complimentary(Some(until)) => {
            Some(format!("Complimentary access until {}.", date_label(until)))
        }
        crate::db::users::Access::Complimentary(None) => {
            Some("Complimentary access, with no end.".to_owned())
        }
        _ => None,
    };
    Ok(MemberPage {
        layout: layout(
            state,
            visitor,
            &settings,
            &format!("/admin/members/{id}"),
            &member.name,
        ),
        nav: nav(&admin, "members"),
        csrf_token: visitor.csrf_token(),
        trial: trial_status(&member, db::now()),
        joined: date_label(member.created_at),
        devices: devices
            .into_iter()
            .map(|d| {
                (
                    d.device,
                    date_label(d.created_at),
                    date_label(d.last_seen_at),
                )
            })
            .collect(),
        member,
        roles: ROLES,
        days: match &refusal {
            Some(Refusal::Days { typed, .. }) => typed.clone(),
            _ => DEFAULT_EXTENSION_DAYS.to_owned(),
        },
        days_error: match &refusal {
            Some(Refusal::Days { message, .. }) => Some(message.clone()),
            _ => None,
        },
        membership,
        complimentary,
        until: match &refusal {
            Some(Refusal::Until { typed, .. }) => typed.clone(),
            _ => String::new(),
        },
        until_error: match &refusal {
            Some(Refusal::Until { message, .. }) => Some(message.clone()),
            _ => None,
        },
        problem: match refusal {
            Some(Refusal::Page(message)) => Some(message),
            _ => None,
        },
    })
}

/// `GET /admin/members/{id}`.
pub async fn show(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let page = member_page(&state, &visitor, id.into_inner(), None).await?;
    render_private(&page, StatusCode::OK)
}

/// A change to a member, refused (with the page again and a message) when it would leave the
/// site without an active admin.
enum Change {
    /// Trial ends this many days from now (from its current end when that is later), or now.
    Trial(Option<i64>),
    Role(&'static str),
    Status(&'static str),
    /// Complimentary access from now, until the end of a day or forever; or ended now.
    Grant(Option<time::PrimitiveDateTime>),
    EndGrant,
}

async fn apply(
    state: &AppState,
    visitor: &Visitor,
    id: i32,
    body: &[u8],
    change: impl FnOnce(&crate::routes::forms::Fields) -> Result<Change, Refusal>,
) -> Result<HttpResponse, AppError> {
    let (admin, fields) = posted(visitor, Need::Admin, body)?;
    let change = match change(&fields) {
        Ok(change) => change,
        Err(refusal) => {
            let page = member_page(state, visitor, id, Some(refusal)).await?;
            return render_private(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let who = actor(&admin);
    let outcome = db::run(&state.pool, move |conn| {
        let outcome = crate::db::write_transaction(
            conn,
            |conn| -> Result<Result<&'static str, String>, diesel::result::Error> {
                let Some(member) = Member::find(conn, id)? else {
                    return Ok(Err("There is no such member.".to_owned()));
                };
                let last_admin = member.role == ADMIN
                    && member.status == ACTIVE
                    && Member::count_active_admins(conn)? <= 1;
                let subject = member_subject(id);
                match change {
                    Change::Trial(days) => {
                        let now = db::now();
                        let ends = match days {
                            Some(days) => {
                                let from =
                                    member.trial_ends_at.filter(|end| *end > now).unwrap_or(now);
                                from + time::Duration::days(days)
                            }
                            None => now,
                        };
                        Member::set_trial_end(conn, id, ends)?;
                        let before = member.trial_ends_at.map(rfc3339).unwrap_or_default();
                        audit::record(
                            conn,
                            &who,
                            "change trial",
                            &subject,
                            &before,
                            &rfc3339(ends),
                        )?;
                        Ok(Ok(if days.is_some() {
                            "The trial was extended."
                        } else {
                            "The trial was ended."
                        }))
                    }
                    Change::Grant(until) => {
                        crate::db::billing::grant(conn, id, until)?;
                        let after = until.map_or_else(|| "forever".to_owned(), rfc3339);
                        audit::record(
                            conn,
                            &who,
                            "give complimentary access",
                            &subject,
                            "",
                            &after,
                        )?;
                        Ok(Ok("Complimentary access was given."))
                    }
                    Change::EndGrant => {
                        let before = member
                            .complimentary_until
                            .map_or_else(|| "forever".to_owned(), rfc3339);
                        crate::db::billing::end_grant(conn, id)?;
                        audit::record(
                            conn,
                            &who,
                            "end complimentary access",
                            &subject,
                            &before,
                            "",
                        )?;
                        Ok(Ok("Complimentary access was ended."))
                    }
                    Change::Role(role) => {
                        if last_admin && role != ADMIN {
                            return Ok(Err(
                                "This is the last admin: make someone else an admin first."
                                    .to_owned(),
                            ));
                        }
                        Member::set_role(conn, id, role)?;
                        audit::record(conn, &who, "change role", &subject, &member.role, role)?;
                        Ok(Ok("The role was changed."))
                    }
                    Change::Status(status) => {
                        if last_admin && status == DISABLED {
                            return Ok(Err(
                                "This is the last admin: the site needs one.".to_owned()
                            ));
                        }
                        Member::set_status(conn, id, status)?;
                        if status == DISABLED {
                            SessionRow::delete_all_for(conn, id)?;
                        }
                        let action = if status == DISABLED {
                            "disable member"
                        } else {
                            "enable member"
                        };
                        audit::record(conn, &who, action, &subject, &member.status, status)?;
                        Ok(Ok(if status == DISABLED {
                            "The account is disabled, and signed out everywhere."
                        } else {
                            "The account can log in again."
                        }))
                    }
                }
            },
        )?;
        Ok(outcome)
    })
    .await?;
    match outcome {
        Ok(message) => {
            state.pages.invalidate();
            visitor.flash(message);
            Ok(see_other(&format!("/admin/members/{id}")))
        }
        Err(problem) => {
            let page = member_page(state, visitor, id, Some(Refusal::Page(problem))).await?;
            render_private(&page, StatusCode::CONFLICT)
        }
    }
}

/// `POST /admin/members/{id}/trial`: `extend` days (1–365), or `end` it now.
pub async fn trial(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    apply(&state, &visitor, id.into_inner(), &body, |fields| {
        if fields.get("action") == "end" {
            return Ok(Change::Trial(None));
        }
        let typed = fields.get("days");
        match typed.trim().parse::<i64>() {
            Ok(days) if (1..=365).contains(&days) => Ok(Change::Trial(Some(days))),
            _ => Err(Refusal::Days {
                typed: typed.to_owned(),
                message: "Enter a whole number of days, from 1 to 365.".to_owned(),
            }),
        }
    })
    .await
}

/// `POST /admin/members/{id}/complimentary`: `give` access (until the end of the day `until`,
/// YYYY-MM-DD, or forever when it is empty), or `end` it.
pub async fn complimentary(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    apply(&state, &visitor, id.into_inner(), &body, |fields| {
        if fields.get("action") == "end" {
            return Ok(Change::EndGrant);
        }
        let typed = fields.get("until").trim();
        if typed.is_empty() {
            return Ok(Change::Grant(None));
        }
        let refuse = |message: &str| Refusal::Until {
            typed: typed.to_owned(),
            message: message.to_owned(),
        };
        let day = time::Date::parse(
            typed,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| refuse("Enter a date such as 2027-01-31, or nothing for no end."))?;
        // The end of that day; a day past what can be stored is refused.
        let until = time::PrimitiveDateTime::new(day, time::Time::MIDNIGHT)
            .checked_add(time::Duration::days(1))
            .filter(|until| until.year() <= 9999)
            .ok_or_else(|| refuse("Enter a day before the year 9999."))?;
        if until <= db::now() {
            return Err(refuse("Enter a day from today on."));
        }
        Ok(Change::Grant(Some(until)))
    })
    .await
}

/// `POST /admin/members/{id}/role`.
pub async fn role(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    apply(&state, &visitor, id.into_inner(), &body, |fields| {
        ROLES
            .iter()
            .find(|r| **r == fields.get("role"))
            .map(|r| Change::Role(r))
            .ok_or_else(|| Refusal::Page("Choose member, editor or admin.".to_owned()))
    })
    .await
}

/// `POST /admin/members/{id}/status`: `disable` or `enable`.
pub async fn status(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    apply(
        &state,
        &visitor,
        id.into_inner(),
        &body,
        |fields| match fields.get("action") {
            "disable" => Ok(Change::Status(DISABLED)),
            "enable" => Ok(Change::Status(ACTIVE)),
            _ => Err(Refusal::Page(
                "Choose to disable or enable the account.".to_owned(),
            )),
        },
    )
    .await
}

/// `POST /admin/members/{id}/delete`: as complete as the member's own deletion.
pub async fn delete(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (admin, fields) = posted(&visitor, Need::Admin, &body)?;
    let id = id.into_inner();
    if fields.get("confirm") != "yes" {
        let page = member_page(
            &state,
            &visitor,
            id,
            Some(Refusal::Page(
                "Tick the box to confirm the deletion.".to_owned(),
            )),
        )
        .await?;
        return render_private(&page, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // The checks first, so that a membership is never cancelled for an account that stays.
    let deletable = db::run(&state.pool, move |conn| Ok(Member::deletable(conn, id)?)).await?;
    let mut early = deletable.err().map(|why| match why {
        Undeletable::Gone => "There is no such member.",
        Undeletable::LastAdmin => "This is the last admin: the site needs one.",
        Undeletable::Author => {
            "Their name is on articles: give those articles another author first."
        }
    });
    if early.is_none() {
        early = crate::routes::billing::cancel_before_deletion(&state, id)
            .await?
            .err();
    }
    if let Some(problem) = early {
        let page = member_page(
            &state,
            &visitor,
            id,
            Some(Refusal::Page(problem.to_owned())),
        )
        .await?;
        return render_private(&page, StatusCode::CONFLICT);
    }
    let who = actor(&admin);
    let secrets = state.auth.secrets.clone();
    let folder = state.mail_folder.clone();
    let outcome = db::run(&state.pool, move |conn| {
        let outcome = crate::db::write_transaction(
            conn,
            |conn| -> Result<Result<Vec<i32>, String>, diesel::result::Error> {
                let Some(email) = Member::find(conn, id)?.map(|m| m.email) else {
                    return Ok(Err("There is no such member.".to_owned()));
                };
                let throttle_key = crate::limits::account_key(&secrets, &email);
                let (member, mail) = match Member::delete_checked(conn, id, &throttle_key)? {
                    Ok(deleted) => deleted,
                    Err(Undeletable::Gone) => {
                        return Ok(Err("There is no such member.".to_owned()));
                    }
                    Err(Undeletable::LastAdmin) => {
                        return Ok(Err("This is the last admin: the site needs one.".to_owned()));
                    }
                    Err(Undeletable::Author) => {
                        return Ok(Err(
                            "Their name is on articles: give those articles another author first."
                                .to_owned(),
                        ));
                    }
                };
                audit::record(
                    conn,
                    &who,
                    "delete member",
                    "a deleted member",
                    &member.role,
                    "deleted",
                )?;
                Ok(Ok(mail))
            },
        )?;
        if let Ok(mail) = &outcome {
            crate::mail::forget_saved(&folder, mail);
        }
        Ok(outcome)
    })
    .await?;
    match outcome {
        Ok(_) => {
            state.pages.invalidate();
            visitor.flash("The member and everything personal about them were deleted.");
            Ok(see_other("/admin/members"))
        }
        Err(problem) => {
            let page = member_page(&state, &visitor, id, Some(Refusal::Page(problem))).await?;
            render_private(&page, StatusCode::CONFLICT)
        }
    }
}

/// A cell as a spreadsheet should show it: text that starts like a formula gets a leading
/// apostrophe, so opening the file never runs anything.
pub fn neutralise(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// `GET /admin/members.csv`: every account, one a line.
pub async fn export(
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, AppError> {
    allowed(&visitor, Need::Admin)?;
    let members = db::run(&state.pool, |conn| Ok(Member::all(conn)?)).await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header_row = [
        "id",
        "email",
        "name",
        "role",
        "status",
        "email confirmed",
        "trial ends",
        "joined",
    ];
    let failed =
        |error: csv::Error| AppError::Internal(anyhow::anyhow!("cannot write the CSV: {error}"));
    writer.write_record(header_row).map_err(failed)?;
    for m in &members {
        let time = |t: Option<time::PrimitiveDateTime>| t.map(rfc3339).unwrap_or_default();
        writer
            .write_record([
                m.id.to_string(),
                neutralise(&m.email),
                neutralise(&m.name),
                m.role.clone(),
                m.status.clone(),
                time(m.email_verified_at),
                time(m.trial_ends_at),
                rfc3339(m.created_at),
            ])
            .map_err(failed)?;
    }
    let body = writer
        .into_inner()
        .map_err(|error| AppError::Internal(anyhow::anyhow!("cannot finish the CSV: {error}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"members.csv\"",
        ))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn cells_a_spreadsheet_would_run_are_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("Ana, \"the\" best"), "Ana, \"the\" best");
    }
}
