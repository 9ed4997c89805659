// @generated automatically by Diesel CLI.

diesel::table! {
    article_bodies (article_id) {
        article_id -> Integer,
        toc_json -> Text,
        teaser_html -> Text,
        body_html -> Text,
        body_markdown -> Text,
    }
}

diesel::table! {
    article_tags (article_id, tag_id) {
        article_id -> Integer,
        tag_id -> Integer,
        listed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    articles (id) {
        id -> Integer,
        slug -> Text,
        title -> Text,
        summary -> Text,
        author_id -> Integer,
        category_id -> Nullable<Integer>,
        status -> Text,
        visibility -> Text,
        featured -> Bool,
        reading_minutes -> Integer,
        published_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        created_at -> Timestamp,
        version -> Integer,
        cover_image_id -> Nullable<Integer>,
        cover_alt -> Text,
        comments_closed -> Bool,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Integer,
        at -> Timestamp,
        actor_id -> Nullable<Integer>,
        actor_name -> Text,
        action -> Text,
        subject -> Text,
        before -> Text,
        after -> Text,
    }
}

diesel::table! {
    categories (id) {
        id -> Integer,
        slug -> Text,
        name -> Text,
        description -> Text,
        created_at -> Timestamp,
        published_articles -> Integer,
    }
}

diesel::table! {
    comments (id) {
        id -> Integer,
        article_id -> Integer,
        user_id -> Integer,
        body -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    content_version (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    derived_data (name) {
        name -> Text,
        version -> Integer,
    }
}

diesel::table! {
    email_tokens (id) {
        id -> Integer,
        user_id -> Integer,
        purpose -> Text,
        token_hash -> Text,
        new_email -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    follows (follower_id, author_id) {
        follower_id -> Integer,
        author_id -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    handle_redirects (old_handle) {
        old_handle -> Text,
        user_id -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    images (id) {
        id -> Integer,
        hash -> Text,
        content_type -> Text,
        name -> Text,
        byte_size -> Integer,
        uploaded_by -> Nullable<Integer>,
        created_at -> Timestamp,
        bytes -> Binary,
    }
}

diesel::table! {
    outbox (id) {
        id -> Integer,
        user_id -> Nullable<Integer>,
        kind -> Text,
        to_address -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    page_views (article_id, day) {
        article_id -> Integer,
        day -> Date,
        views -> Integer,
    }
}

diesel::table! {
    payments (id) {
        id -> Integer,
        stripe_invoice_id -> Text,
        user_id -> Integer,
        subscription_stripe_id -> Nullable<Text>,
        amount -> Integer,
        currency -> Text,
        status -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    pending_signups (id) {
        id -> Integer,
        token_hash -> Text,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        next_path -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    saved_articles (user_id, article_id) {
        user_id -> Integer,
        article_id -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Integer,
        key_hash -> Text,
        user_id -> Integer,
        state -> Text,
        device -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    slug_redirects (id) {
        id -> Integer,
        kind -> Text,
        old_slug -> Text,
        target_id -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    stripe_events (id) {
        id -> Text,
        kind -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    subscriptions (id) {
        id -> Integer,
        stripe_id -> Text,
        user_id -> Integer,
        status -> Text,
        plan_interval -> Text,
        amount -> Integer,
        currency -> Text,
        trial_end -> Nullable<Timestamp>,
        current_period_end -> Nullable<Timestamp>,
        cancel_at -> Nullable<Timestamp>,
        ended_at -> Nullable<Timestamp>,
        past_due_since -> Nullable<Timestamp>,
        started_at -> Timestamp,
        converted_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    tags (id) {
        id -> Integer,
        slug -> Text,
        name -> Text,
        description -> Text,
        created_at -> Timestamp,
        published_articles -> Integer,
    }
}

diesel::table! {
    throttle_events (id) {
        id -> Integer,
        bucket -> Text,
        key_hash -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Integer,
        email -> Text,
        name -> Text,
        password_hash -> Nullable<Text>,
        role -> Text,
        status -> Text,
        bio -> Text,
        email_verified_at -> Nullable<Timestamp>,
        trial_started_at -> Nullable<Timestamp>,
        trial_ends_at -> Nullable<Timestamp>,
        session_epoch -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        trial_reminder_sent_at -> Nullable<Timestamp>,
        stripe_customer_id -> Nullable<Text>,
        stripe_open_checkout -> Nullable<Text>,
        paid_status -> Nullable<Text>,
        paid_until -> Nullable<Timestamp>,
        paid_grace_ends_at -> Nullable<Timestamp>,
        complimentary_since -> Nullable<Timestamp>,
        complimentary_until -> Nullable<Timestamp>,
        handle -> Text,
        handle_key -> Text,
        image_id -> Nullable<Integer>,
    }
}

diesel::joinable!(article_bodies -> articles (article_id));
diesel::joinable!(article_tags -> articles (article_id));
diesel::joinable!(article_tags -> tags (tag_id));
diesel::joinable!(articles -> categories (category_id));
diesel::joinable!(articles -> images (cover_image_id));
diesel::joinable!(articles -> users (author_id));
diesel::joinable!(comments -> articles (article_id));
diesel::joinable!(comments -> users (user_id));
diesel::joinable!(email_tokens -> users (user_id));
diesel::joinable!(handle_redirects -> users (user_id));
diesel::joinable!(page_views -> articles (article_id));
diesel::joinable!(payments -> users (user_id));
diesel::joinable!(saved_articles -> articles (article_id));
diesel::joinable!(saved_articles -> users (user_id));
diesel::joinable!(outbox -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(subscriptions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    article_bodies,
    article_tags,
    articles,
    audit_log,
    categories,
    comments,
    content_version,
    derived_data,
    email_tokens,
    follows,
    handle_redirects,
    images,
    outbox,
    page_views,
    payments,
    pending_signups,
    saved_articles,
    sessions,
    settings,
    slug_redirects,
    stripe_events,
    subscriptions,
    tags,
    throttle_events,
    users
);
