//! One reply, paid chunk by chunk, across reconnections.

use super::*;

/// Where the reply stands; kept across reconnections.
#[derive(Default)]
struct State {
    base: Option<U256>,
    prompt_tokens: u32,
    last_seq: u32,
    completion: u32,
    text: String,
    /// Signed and sent, not yet acknowledged by `paid`.
    unacked: Option<VoucherMsg>,
    accepted: U256,
    done: Option<(FinishReason, u32, U256, U256)>,
}

enum Step {
    Continue,
    Finished,
}

impl Chat {
    /// Streams the reply, paying each chunk that passes the checks and that `approve` accepts with
    /// a voucher signed by `session_key`; every step goes to `on_event`. Reconnects and resumes
    /// when the connection drops.
    pub async fn run(
        &mut self,
        api: &NodeApi,
        cookie: &str,
        session_key: &PrivateKeySigner,
        domain: &VoucherDomain,
        approve: &mut impl Approve,
        on_event: &mut impl FnMut(&Event),
    ) -> Result<Outcome, ClientError> {
        let mut st = State::default();
        let mut attempt = 0;
        loop {
            let dropped = match api.connect(cookie).await {
                Ok(mut ws) => match self.converse(&mut ws, &mut st, session_key, domain, approve, on_event).await {
                    Ok(()) => {
                        let _ = ws.close(None).await;
                        let (finish, completion_tokens, cost, billed) =
                            st.done.unwrap_or((FinishReason::Stopped, 0, U256::ZERO, U256::ZERO));
                        return Ok(Outcome {
                            text: st.text,
                            finish,
                            base: st.base.unwrap_or_default(),
                            prompt_tokens: st.prompt_tokens,
                            completion_tokens,
                            cost,
                            billed,
                            accepted: st.accepted,
                        });
                    }
                    Err(ClientError::Io(reason)) => reason,
                    Err(e) => {
                        let _ = ws.close(None).await;
                        return Err(e);
                    }
                },
                Err(ClientError::Io(reason)) if attempt > 0 => reason,
                Err(e) => return Err(e),
            };
            attempt += 1;
            if attempt > RECONNECTS {
                return Err(ClientError::Io(format!("the connection dropped {RECONNECTS} times: {dropped}")));
            }
            on_event(&Event::Reconnecting { attempt, reason: dropped });
            tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
        }
    }

    /// One connection's part of the reply: `start` (or `resume`), then messages until the reply is
    /// done and paid. `Err(Io)`: the connection dropped.
    async fn converse(
        &mut self,
        ws: &mut WebSocketStream<TcpStream>,
        st: &mut State,
        key: &PrivateKeySigner,
        domain: &VoucherDomain,
        approve: &mut impl Approve,
        on_event: &mut impl FnMut(&Event),
    ) -> Result<(), ClientError> {
        let first = if st.base.is_none() {
            ClientMsg::Start(StartMsg {
                request_id: self.request_id.clone(),
                channel_id: self.channel_id,
                model: self.model.clone(),
                messages: self.messages.clone(),
                max_tokens: self.max_tokens,
                prices: SeenPrices { prompt: self.pricing.prompt_per_1k, completion: self.pricing.completion_per_1k },
                voucher: None,
            })
        } else {
            ClientMsg::Resume {
                request_id: self.request_id.clone(),
                received: st.last_seq,
                voucher: st.unacked.clone(),
            }
        };
        send(ws, &first).await?;
        loop {
            let frame = match ws.next().await {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Close(_))) | None => {
                    return Err(ClientError::Io("the node closed the connection".into()));
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(ClientError::Io(format!("the connection broke: {e}"))),
            };
            let msg: ServerMsg = serde_json::from_str(&frame)
                .map_err(|e| ClientError::Protocol(format!("not a message ({e}): {frame}")))?;
            if msg.request_id().is_some_and(|id| id != self.request_id) {
                continue;
            }
            match self.receive(ws, st, msg, key, domain, approve, on_event).await? {
                Step::Continue => {}
                Step::Finished => return Ok(()),
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn receive(
        &mut self,
        ws: &mut WebSocketStream<TcpStream>,
        st: &mut State,
        msg: ServerMsg,
        key: &PrivateKeySigner,
        domain: &VoucherDomain,
        approve: &mut impl Approve,
        on_event: &mut impl FnMut(&Event),
    ) -> Result<Step, ClientError> {
        match msg {
            ServerMsg::Started { base, prompt_tokens, max_cost, .. } => {
                if let Some(known) = st.base {
                    if known != base || st.prompt_tokens != prompt_tokens {
                        return self
                            .refuse(ws, format!("the reply's terms changed on resume: base {base}, was {known}"))
                            .await;
                    }
                    return Ok(Step::Continue);
                }
                if let Err(why) = check_base(base, self) {
                    return self.refuse(ws, why).await;
                }
                st.base = Some(base);
                st.prompt_tokens = prompt_tokens;
                on_event(&Event::Started { base, prompt_tokens, max_cost });
            }
            ServerMsg::Chunk { seq, text, tokens, cost, cumulative, .. } => {
                if seq <= st.last_seq {
                    return Ok(Step::Continue); // replayed after a resume: keep the first
                }
                let Some(base) = st.base.filter(|_| seq == st.last_seq + 1) else {
                    return self
                        .refuse(ws, format!("chunk {seq} came out of order (expected {})", st.last_seq + 1))
                        .await;
                };
                let completion = st.completion + tokens;
                let amount = match check_chunk(
                    &self.pricing,
                    base,
                    st.prompt_tokens,
                    completion,
                    cost,
                    cumulative,
                    self.highest_signed,
                    self.deposit,
                ) {
                    Ok(amount) => amount,
                    Err(why) => return self.refuse(ws, why).await,
                };
                st.last_seq = seq;
                st.completion = completion;
                st.text.push_str(&text);
                on_event(&Event::Chunk { seq, text, tokens, cost, cumulative });
                let delta = amount.saturating_sub(self.highest_signed.max(st.accepted));
                if !approve.approve(seq, amount, delta).await {
                    let _ = send(ws, &ClientMsg::Stop { request_id: self.request_id.clone() }).await;
                    return Err(ClientError::Declined { seq, amount });
                }
                let sig = domain.sign(key, self.channel_id, amount).map_err(|e| ClientError::Sign(e.to_string()))?;
                let signature = hex::encode_prefixed(sig);
                st.unacked = Some(VoucherMsg { amount, signature: signature.clone() });
                self.highest_signed = amount;
                on_event(&Event::Signed { seq, amount });
                send(ws, &ClientMsg::Voucher { request_id: self.request_id.clone(), amount, signature }).await?;
            }
            ServerMsg::Paid { accepted, .. } => {
                st.accepted = st.accepted.max(accepted);
                if st.unacked.as_ref().is_some_and(|v| v.amount <= accepted) {
                    st.unacked = None;
                }
                on_event(&Event::Paid { accepted });
            }
            ServerMsg::Done { finish, prompt_tokens, completion_tokens, cost, cumulative, .. } => {
                let expected = self.pricing.cost(prompt_tokens, completion_tokens);
                let base = st.base.unwrap_or_default();
                if prompt_tokens != st.prompt_tokens
                    || completion_tokens != st.completion
                    || cost != expected
                    || cumulative != base.saturating_add(cost)
                {
                    return Err(ClientError::Refused(format!(
                        "the reply's summary ({prompt_tokens} + {completion_tokens} tokens, cost {cost}, total {cumulative}) \
                         does not match what was delivered ({} + {} tokens, cost {expected})",
                        st.prompt_tokens, st.completion
                    )));
                }
                st.done = Some((finish, completion_tokens, cost, cumulative));
            }
            ServerMsg::Error { code, message, owed, deposit, expiry, .. } => {
                return Err(ClientError::Node { code, message, owed, deposit, expiry });
            }
        }
        if st.done.is_some() && st.unacked.is_none() {
            return Ok(Step::Finished);
        }
        Ok(Step::Continue)
    }

    /// Stops the reply and says why it was not paid.
    async fn refuse(&self, ws: &mut WebSocketStream<TcpStream>, why: String) -> Result<Step, ClientError> {
        let _ = send(ws, &ClientMsg::Stop { request_id: self.request_id.clone() }).await;
        Err(ClientError::Refused(why))
    }
}

async fn send(ws: &mut WebSocketStream<TcpStream>, msg: &ClientMsg) -> Result<(), ClientError> {
    let text = serde_json::to_string(msg).map_err(|e| ClientError::Protocol(e.to_string()))?;
    ws.send(Message::Text(text.into())).await.map_err(|e| ClientError::Io(format!("the connection broke: {e}")))
}
