//! The shell (top bar, navigation, toasts) and the routes.

use leptos::prelude::*;
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::path;

use crate::components::toast::{ToastHost, Toasts};
use crate::pages::connect::ConnectPage;
use crate::pages::job::JobPage;
use crate::pages::jobs::JobsPage;
use crate::pages::launch::LaunchPage;
use crate::pages::not_found::NotFound;
use crate::pages::queue::QueuePage;
use crate::pages::run::RunPage;
use crate::session::{Session, recent_projects, use_session};

#[component]
pub fn App() -> impl IntoView {
    Session::provide();
    Toasts::provide();
    view! {
        <Router>
            <TopBar/>
            <main id="main">
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=Home/>
                    <Route path=path!("/connect") view=ConnectPage/>
                    <Route path=path!("/launch") view=LaunchPage/>
                    <Route path=path!("/launch/:entity/:queue") view=QueuePage/>
                    <Route path=path!("/launch/:entity/:queue/:tab") view=QueuePage/>
                    <Route path=path!("/:entity/:project/jobs") view=JobsPage/>
                    <Route path=path!("/:entity/:project/jobs/:job") view=JobPage/>
                    <Route path=path!("/:entity/:project/jobs/:job/:tab") view=JobPage/>
                    <Route path=path!("/:entity/:project/runs/:run") view=RunPage/>
                </Routes>
            </main>
            <ToastHost/>
        </Router>
    }
}

/// `/`: the Launch home once connected, else Connect.
#[component]
fn Home() -> impl IntoView {
    let session = use_session();
    move || {
        if session.creds.get().is_some() {
            view! { <Redirect path="/launch"/> }
        } else {
            view! { <Redirect path="/connect"/> }
        }
    }
}

#[component]
fn TopBar() -> impl IntoView {
    let session = use_session();
    let location = use_location();
    let here = move |prefix: &'static str| {
        move || {
            location
                .pathname
                .with(|p| p.starts_with(prefix))
                .then_some("page")
        }
    };
    let jobs_href = move || {
        location.pathname.track();
        recent_projects().first().map(|p| format!("/{p}/jobs"))
    };
    let jobs_current = move || {
        location
            .pathname
            .with(|p| p.contains("/jobs"))
            .then_some("page")
    };
    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <header class="top">
            <a class="brand" href="/launch"><span class="mark" aria-hidden="true"></span>"Liftoff"</a>
            <nav aria-label="Main">
                <a href="/launch" aria-current=here("/launch")>"Launch"</a>
                {move || jobs_href().map(|href| view! { <a href=href aria-current=jobs_current>"Jobs"</a> })}
            </nav>
            <a class="who" href="/connect" aria-current=here("/connect")>
                {move || match session.info() {
                    Some(i) => format!("{} @ {}", i.viewer.username, host(&i.base_url)),
                    None if session.creds.get().is_some() => "Connecting…".to_owned(),
                    None => "Connect".to_owned(),
                }}
            </a>
        </header>
    }
}

fn host(url: &str) -> String {
    liftoff_client::auth::host_of(url)
}
