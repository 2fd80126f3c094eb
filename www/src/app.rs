//! The shell (top bar, navigation, toasts) and the routes.

use leptos::prelude::*;
use liftoff_client::Error;
use liftoff_model::route::{Page, ROUTES};

use crate::components::toast::{ToastHost, Toasts};
use crate::pages::connect::ConnectPage;
use crate::pages::job::JobPage;
use crate::pages::jobs::JobsPage;
use crate::pages::launch::{LaunchPage, PICK_PROJECT};
use crate::pages::not_found::NotFound;
use crate::pages::queue::QueuePage;
use crate::pages::run::RunPage;
use crate::router;
use crate::session::{Session, recent_projects, use_session};

#[component]
pub fn App() -> impl IntoView {
    Session::provide();
    Toasts::provide();
    crate::components::time::Clock::provide();
    crate::drafts::QueueDrafts::provide();
    crate::drafts::Drafts::<crate::components::launch_drawer::LaunchDraft>::provide();
    let page = router::provide(ROUTES);
    // The tab's title names what is on screen (history and tabs tell pages apart).
    let params = router::use_params_map();
    Effect::new(move |_| {
        let what = params.with(|p| {
            let get = |k: &str| p.get(k).unwrap_or_default();
            match page.get() {
                Some(Page::Home) | None => None,
                Some(Page::Connect) => Some("Connect".to_owned()),
                Some(Page::Launch) => Some("Launch".to_owned()),
                Some(Page::Queue) => Some(format!("{} · queue", get("queue"))),
                Some(Page::Jobs) => Some(format!("Jobs of {}/{}", get("entity"), get("project"))),
                Some(Page::Job) => Some(format!("{} · job", get("job"))),
                Some(Page::Run) => Some(format!("{} · run", get("run"))),
            }
        });
        document()
            .set_title(&what.map_or_else(|| "Liftoff".to_owned(), |w| format!("{w} · Liftoff")));
    });
    // A page stays when only its parameters change (another tab, queue or run).
    let shown = move || match page.get() {
        Some(Page::Home) => view! { <Home/> }.into_any(),
        Some(Page::Connect) => view! { <ConnectPage/> }.into_any(),
        Some(Page::Launch) => view! { <LaunchPage/> }.into_any(),
        Some(Page::Queue) => view! { <QueuePage/> }.into_any(),
        Some(Page::Jobs) => view! { <JobsPage/> }.into_any(),
        Some(Page::Job) => view! { <JobPage/> }.into_any(),
        Some(Page::Run) => view! { <RunPage/> }.into_any(),
        None => view! { <NotFound/> }.into_any(),
    };
    view! {
        <TopBar page/>
        <main id="main">{shown}</main>
        <ToastHost/>
    }
}

/// `/`: the Launch home once connected, else Connect.
#[component]
fn Home() -> impl IntoView {
    let session = use_session();
    Effect::new(move |_| {
        let to = if session.creds.get().is_some() {
            "/launch"
        } else {
            "/connect"
        };
        router::redirect(to);
    });
}

#[component]
fn TopBar(page: Memo<Option<Page>>) -> impl IntoView {
    let session = use_session();
    let pathname = router::use_pathname();
    let here = move |prefix: &'static str| {
        move || pathname.with(|p| p.starts_with(prefix)).then_some("page")
    };
    // The project on screen (the routes with a `:project`: jobs, a job, a
    // run), else the last one visited, else the Launch home's project picker.
    let params = router::use_params_map();
    let jobs_href = move || {
        let on_screen =
            params.with(|p| Some(format!("{}/{}", p.get("entity")?, p.get("project")?)));
        on_screen
            .or_else(|| recent_projects().first().cloned())
            .map_or_else(
                || format!("/launch#{PICK_PROJECT}"),
                |p| format!("/{p}/jobs"),
            )
    };
    let jobs_current = move || matches!(page.get(), Some(Page::Jobs | Page::Job)).then_some("page");
    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <header class="top">
            <a class="brand" href="/launch"><span class="mark" aria-hidden="true"></span>"Liftoff"</a>
            <nav aria-label="Main">
                <a href="/launch" aria-current=here("/launch")>"Launch"</a>
                <a href=jobs_href aria-current=jobs_current>"Jobs"</a>
            </nav>
            <a class="who" href="/connect" aria-current=here("/connect")>
                {move || match (session.server.get().flatten(), session.creds.get()) {
                    (Some(Ok(i)), _) => format!("{} @ {}", i.viewer.username, host(&i.base_url)),
                    (Some(Err(Error::Unauthorized { .. })), _) => "Key refused: connect again".to_owned(),
                    (Some(Err(_)), Some(c)) => format!("Not connected to {}", host(&c.base_url)),
                    (None, Some(_)) => "Connecting…".to_owned(),
                    _ => "Connect".to_owned(),
                }}
            </a>
        </header>
    }
}

fn host(url: &str) -> String {
    liftoff_client::auth::host_of(url)
}
