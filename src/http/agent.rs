//! The agent console's API: queues, claiming, live chat, transfer, return, close, suggestions,
//! canned replies and messages left out of hours. Agents sign in with bearer tokens from
//! configuration, stored hashed; a token without the `agent` role is refused with 403.
//! Over 400 lines because the handoff steps (claim, transfer, return, close) still live in
//! these handlers; they belong in a handoff service over the store traits, which would leave
//! this file the thin HTTP layer the other route files are.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::change::{change_conversation, now, system_message};
use super::live::{self, After};
use super::wire::Message;
use super::{AppState, bearer, resource};
use crate::config::AgentConfig;
use crate::engine::Mode;
use crate::error::{ApiError, ErrorCode};
use crate::handoff::ACTIVE_QUEUE;
use crate::store::{ClaimOutcome, ConversationStore, HandoffStore, NewMessage, Role};

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .service(resource("/api/v1/agent/me").route(web::get().to(me)))
        .service(resource("/api/v1/agent/presence").route(web::post().to(presence)))
        .service(resource("/api/v1/agent/queue").route(web::get().to(queue)))
        .service(resource("/api/v1/agent/canned").route(web::get().to(canned)))
        .service(resource("/api/v1/agent/offline-messages").route(web::get().to(offline_messages)))
        .service(resource("/api/v1/agent/offline-messages/{id}/done").route(web::post().to(offline_done)))
        .service(resource("/api/v1/agent/conversations/{id}").route(web::get().to(conversation)))
        .service(resource("/api/v1/agent/conversations/{id}/events").route(web::get().to(events)))
        .service(resource("/api/v1/agent/conversations/{id}/claim").route(web::post().to(claim)))
        .service(resource("/api/v1/agent/conversations/{id}/messages").route(web::post().to(send)))
        .service(resource("/api/v1/agent/conversations/{id}/typing").route(web::post().to(typing)))
        .service(resource("/api/v1/agent/conversations/{id}/transfer").route(web::post().to(transfer)))
        .service(
            resource("/api/v1/agent/conversations/{id}/return").route(web::post().to(return_to_assistant)),
        )
        .service(resource("/api/v1/agent/conversations/{id}/close").route(web::post().to(close)))
        .service(resource("/api/v1/agent/conversations/{id}/suggestions").route(web::get().to(suggestions)));
}

/// The signed-in person, if their token is known and carries `role`.
pub fn authorise(state: &AppState, request: &HttpRequest, role: &str) -> Result<AgentConfig, ApiError> {
    let token = bearer(request, "Sign in with your agent token.")?;
    let agent = state
        .handoff
        .agent_for_token(token)
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "That token is not known."))?;
    if !agent.roles.iter().any(|r| r == role) {
        return Err(ApiError::new(ErrorCode::Forbidden, format!("This needs the {role} role.")));
    }
    Ok(agent.clone())
}

pub(crate) fn agent(state: &AppState, request: &HttpRequest) -> Result<AgentConfig, ApiError> {
    authorise(state, request, "agent")
}

async fn me(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let agent = agent(&state, &request)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"name": agent.name, "roles": agent.roles})))
}

#[derive(Deserialize)]
struct Presence {
    status: String,
}

/// How long a heartbeat keeps an agent present.
const PRESENCE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

async fn presence(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<Presence>,
) -> Result<HttpResponse, ApiError> {
    let agent = agent(&state, &request)?;
    if !matches!(body.status.as_str(), "online" | "away") {
        return Err(ApiError::new(ErrorCode::InvalidRequest, "status is online or away."));
    }
    state.store.set_presence(&agent.name, &body.status, PRESENCE_TTL).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize)]
struct Waiting {
    id: String,
    team: String,
    waiting_seconds: i64,
    topic: Option<String>,
    topic_title: Option<String>,
    place: Option<String>,
    district: Option<String>,
    last_message: Option<String>,
    state: &'static str,
    agent: Option<String>,
}

async fn waiting(state: &AppState, id: &str, team: &str, since_millis: i64) -> Option<Waiting> {
    let snapshot = state.store.load(id).await.ok()??;
    let conversation = snapshot.state;
    let engine = state.engine();
    let messages = state.store.messages(id, 0).await.ok()?;
    let last_message =
        messages.iter().rev().find(|m| m.message.role == Role::Resident).map(|m| m.message.text.clone());
    let topic = conversation.current_topic().map(str::to_string);
    Some(Waiting {
        id: id.to_string(),
        team: team.to_string(),
        waiting_seconds: (chrono::Utc::now().timestamp_millis() - since_millis).max(0) / 1000,
        topic_title: topic.as_deref().map(|t| engine.title_of(t)),
        topic,
        place: conversation.place.as_ref().map(|p| p.name.clone()),
        district: conversation.place.as_ref().and_then(|p| engine.district_name(&p.district_id)),
        last_message,
        state: conversation.mode.as_str(),
        agent: conversation.agent,
    })
}

/// Agents whose heartbeat is live and who are not away.
pub async fn online_agents(state: &AppState) -> Result<usize, crate::store::StoreError> {
    Ok(state.store.presence().await?.iter().filter(|(_, status)| status == "online").count())
}

async fn queue(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let me = agent(&state, &request)?;
    let online = online_agents(&state).await?;
    let mut teams = Vec::new();
    for team in state.handoff.teams() {
        let mut entries = Vec::new();
        for (id, since) in state.store.queue(&team.id).await? {
            if let Some(w) = waiting(&state, &id, &team.id, since).await {
                entries.push(w);
            }
        }
        let opens = state.handoff.closed_until(team, chrono::Utc::now());
        teams.push(serde_json::json!({
            "id": team.id, "name": team.name, "open": opens.is_none(), "opens": opens,
            "agents_online": online, "waiting": entries,
        }));
    }
    let mut mine = Vec::new();
    for (id, since) in state.store.queue(ACTIVE_QUEUE).await? {
        if let Some(w) = waiting(&state, &id, "", since).await
            && w.agent.as_deref() == Some(me.name.as_str())
        {
            mine.push(w);
        }
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({"teams": teams, "mine": mine})))
}

async fn canned(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    agent(&state, &request)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"replies": state.settings.canned_replies})))
}

async fn conversation(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    agent(&state, &request)?;
    let id = path.into_inner();
    let snapshot = state.store.load(&id).await?.ok_or_else(ApiError::conversation_not_found)?;
    let conversation = snapshot.state;
    let messages = state.store.messages(&id, 0).await?;
    let engine = state.engine();
    // Everything the resident already told the assistant, so they never repeat it.
    let questions: Vec<&str> = messages
        .iter()
        .filter(|m| m.message.role == Role::Resident)
        .map(|m| m.message.text.as_str())
        .collect();
    let answers: Vec<serde_json::Value> = messages
        .iter()
        .filter(|m| m.message.role == Role::Bot && m.message.answer)
        .map(|m| serde_json::json!({"text": shorten(&m.message.text, 280)}))
        .collect();
    let topics: Vec<serde_json::Value> = conversation
        .topics
        .iter()
        .map(|t| serde_json::json!({"id": t, "title": engine.title_of(t)}))
        .collect();
    let details = serde_json::json!({
        "place": conversation.place.as_ref().map(|p| p.name.clone()),
        "district": conversation.place.as_ref().and_then(|p| engine.district_name(&p.district_id)),
        "topics": topics,
        "questions": questions,
        "answers": answers,
    });
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "id": id,
        "state": conversation.mode.as_str(),
        "team": conversation.team,
        "agent": conversation.agent,
        "details": details,
        "messages": messages.into_iter().map(Message::from).collect::<Vec<_>>(),
    })))
}

async fn events(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    after: web::Query<After>,
) -> Result<HttpResponse, ApiError> {
    agent(&state, &request)?;
    let id = path.into_inner();
    state.store.load(&id).await?.ok_or_else(ApiError::conversation_not_found)?;
    live::respond(state, id, after.after)
}

async fn claim(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let me = agent(&state, &request)?;
    let id = path.into_inner();
    let snapshot = state.store.load(&id).await?.ok_or_else(ApiError::conversation_not_found)?;
    if !matches!(snapshot.state.mode, Mode::Queued | Mode::Agent) {
        return Err(ApiError::new(ErrorCode::Conflict, "This conversation is not waiting for a person."));
    }
    if let ClaimOutcome::AlreadyClaimed(holder) = state.store.claim(&id, &me.name).await? {
        return Err(ApiError::new(
            ErrorCode::AlreadyClaimed,
            format!("{holder} has already taken this conversation."),
        ));
    }
    let result = change_conversation(&state, &id, |conversation| {
        if conversation.mode == Mode::Agent && conversation.agent.as_deref() == Some(me.name.as_str()) {
            return Ok(Vec::new());
        }
        if conversation.mode != Mode::Queued {
            return Err(ApiError::new(ErrorCode::Conflict, "This conversation is no longer waiting."));
        }
        conversation.mode = Mode::Agent;
        conversation.agent = Some(me.name.clone());
        Ok(vec![system_message(format!("{} has joined the conversation.", me.name))])
    })
    .await;
    let (conversation, _) = match result {
        Ok(done) => done,
        Err(error) => {
            state.store.release(&id).await?;
            return Err(error);
        }
    };
    if let Some(team) = &conversation.team {
        state.store.dequeue(team, &id).await?;
    }
    state.store.enqueue(ACTIVE_QUEUE, &id, chrono::Utc::now().timestamp_millis()).await?;
    tracing::info!(conversation = %id, agent = %me.name, "claimed");
    Ok(HttpResponse::Ok().json(serde_json::json!({"state": "agent", "agent": me.name})))
}

/// The conversation must be held by this agent.
fn held_by(me: &AgentConfig, conversation: &crate::engine::ConversationState) -> Result<(), ApiError> {
    if conversation.mode == Mode::Agent && conversation.agent.as_deref() == Some(me.name.as_str()) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::Conflict, "Claim this conversation first."))
    }
}

#[derive(Deserialize)]
struct Text {
    text: String,
}

async fn send(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Text>,
) -> Result<HttpResponse, ApiError> {
    let me = agent(&state, &request)?;
    let id = path.into_inner();
    let text = body.into_inner().text.trim().to_string();
    if text.is_empty() {
        return Err(ApiError::new(ErrorCode::EmptyText, "The message is empty."));
    }
    if text.chars().count() > state.settings.max_text_chars * 4 {
        return Err(ApiError::new(ErrorCode::TextTooLong, "The message is too long."));
    }
    // The same rule as for residents: no personal data is stored, whoever types it; the
    // council's published numbers stay.
    let text = state.engine().redact(&text);
    let (_, stored) = change_conversation(&state, &id, |conversation| {
        held_by(&me, conversation)?;
        Ok(vec![NewMessage {
            author: Some(me.name.clone()),
            ..NewMessage::plain(Role::Agent, text.clone(), now())
        }])
    })
    .await?;
    state.store.set_typing(&id, true, false).await?;
    let message = stored.into_iter().next().map(Message::from);
    Ok(HttpResponse::Ok().json(serde_json::json!({"message": message})))
}

#[derive(Deserialize)]
pub struct TypingBody {
    pub typing: bool,
}

async fn typing(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Json<TypingBody>,
) -> Result<HttpResponse, ApiError> {
    let me = agent(&state, &request)?;
    let id = path.into_inner();
    // Only the agent holding a conversation types in it: no entries for ids that do not exist.
    let snapshot = state
        .store
        .load(&id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "No such conversation."))?;
    held_by(&me, &snapshot.state)?;
    state.store.set_typing(&id, true, body.typing).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct Transfer {
    team: String,
}

async fn transfer(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Transfer>,
) -> Result<HttpResponse, ApiError> {
    let me = agent(&state, &request)?;
    let id = path.into_inner();
    let team = state
        .handoff
        .team(&body.team)
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest, "There is no such team."))?
        .clone();
    change_conversation(&state, &id, |conversation| {
        held_by(&me, conversation)?;
        conversation.mode = Mode::Queued;
        conversation.agent = None;
        conversation.team = Some(team.id.clone());
        Ok(vec![system_message(format!("You are being passed to our {} team. Please wait.", team.name))])
    })
    .await?;
    state.store.release(&id).await?;
    state.store.dequeue(ACTIVE_QUEUE, &id).await?;
    state.store.enqueue(&team.id, &id, chrono::Utc::now().timestamp_millis()).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"state": "queued", "team": team.id})))
}

async fn return_to_assistant(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let me = agent(&state, &request)?;
    let id = path.into_inner();
    change_conversation(&state, &id, |conversation| {
        held_by(&me, conversation)?;
        conversation.mode = Mode::Bot;
        conversation.agent = None;
        conversation.unanswered = 0;
        conversation.offers.clear();
        Ok(vec![system_message("You are back with the automated assistant. Ask me anything else.")])
    })
    .await?;
    state.store.release(&id).await?;
    state.store.dequeue(ACTIVE_QUEUE, &id).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"state": "bot"})))
}

#[derive(Deserialize)]
struct Close {
    outcome: String,
}

async fn close(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Close>,
) -> Result<HttpResponse, ApiError> {
    let me = agent(&state, &request)?;
    let id = path.into_inner();
    let outcome = body.into_inner().outcome;
    if !matches!(outcome.as_str(), "resolved" | "referred" | "no_response") {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "outcome is resolved, referred or no_response.",
        ));
    }
    let (conversation, _) = change_conversation(&state, &id, |conversation| {
        held_by(&me, conversation)?;
        conversation.mode = Mode::Closed;
        conversation.agent = None;
        conversation.outcome = Some(outcome.clone());
        Ok(vec![system_message(
            "This conversation has ended. Thank you for contacting Hertfordshire County Council.",
        )])
    })
    .await?;
    state.store.release(&id).await?;
    live::leave_queues(&state, conversation.team.as_deref(), &id).await?;
    tracing::info!(conversation = %id, agent = %me.name, %outcome, "closed");
    Ok(HttpResponse::Ok().json(serde_json::json!({"state": "closed"})))
}

async fn suggestions(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    agent(&state, &request)?;
    let id = path.into_inner();
    let messages = state.store.messages(&id, 0).await?;
    let resident: Vec<&str> = messages
        .iter()
        .filter(|m| m.message.role == Role::Resident)
        .map(|m| m.message.text.as_str())
        .collect();
    let conversation = state.store.load(&id).await?.map(|s| s.state);
    let engine = state.engine();
    let topic = conversation.as_ref().and_then(|c| c.current_topic());
    let Some(text) = engine.suggestion_text(&resident, topic) else {
        return Ok(HttpResponse::Ok().json(serde_json::json!({"articles": []})));
    };
    let place = conversation.and_then(|c| c.place);
    let articles = engine.suggestions(&text, place.as_ref(), 3);
    Ok(HttpResponse::Ok().json(serde_json::json!({"articles": articles})))
}

async fn offline_messages(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    agent(&state, &request)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"messages": state.store.offline().await?})))
}

async fn offline_done(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    agent(&state, &request)?;
    if state.store.mark_offline_done(&path.into_inner()).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::new(ErrorCode::NotFound, "No such message."))
    }
}

/// At most `limit` characters, cut at a word boundary, with an ellipsis when cut.
fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let cut: String = text.chars().take(limit).collect();
    let at_word = cut.rfind(char::is_whitespace).map_or(cut.as_str(), |i| &cut[..i]);
    format!("{}…", at_word.trim_end())
}

#[cfg(test)]
mod tests {
    #[test]
    fn shortens_at_a_word() {
        assert_eq!(super::shorten("short", 10), "short");
        assert_eq!(super::shorten("one two three four", 9), "one two…");
    }
}
