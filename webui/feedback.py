"""👍/👎 on each answer (the chatbot's own feedback buttons) and an optional comment, stored with the
question, answer, sources and configuration (accounts.feedback)."""
from __future__ import annotations

import gradio as gr

from accounts.feedback import record_from_answer
from webui.context import UIContext, ui_info, ui_warning


def turn_of(index) -> int:
    """Chat messages alternate user/assistant: message 2t+1 is the answer of turn t."""
    if isinstance(index, (list, tuple)):
        index = index[0]
    return int(index) // 2


def build_feedback_controls(ctx: UIContext, chatbot: gr.Chatbot, conv_state: gr.State) -> dict:
    last_feedback = gr.State(None)  # id of this session's latest rating, for the comment box
    with gr.Row(elem_id="feedback-row"):
        comment = gr.Textbox(label="Commentaire sur la réponse notée", show_label=False,  # named, not « Textbox »
                             placeholder="Commentaire sur la réponse notée (facultatif) : ce qui manque, ce qui est faux…",
                             scale=5, elem_id="fb-comment", max_lines=3)
        send_comment = gr.Button("Envoyer le commentaire", scale=1, size="sm", elem_id="fb-send")

    def on_like(conv, data: gr.LikeData, request: gr.Request):
        turn = turn_of(data.index)
        if not conv or turn >= len(conv.turns):
            return gr.skip()
        liked = data.liked
        if liked is None or liked == "":  # the user withdrew the vote
            return gr.skip()
        rating = 1 if liked is True or str(liked).lower() in ("like", "true") else -1
        rec = record_from_answer(conv.turns[turn].answer, rating, ctx.assistant,
                                 session=getattr(request, "session_hash", None), turn=turn)
        fid = ctx.feedback.record(rec)
        ui_info("Merci ! Avis enregistré (" + ("réponse utile" if rating > 0 else "réponse insatisfaisante") +
                "). Vous pouvez ajouter un commentaire sous la conversation.")
        return fid

    chatbot.like(on_like, conv_state, last_feedback, api_name=False)

    def on_comment(fid, text):
        text = (text or "").strip()
        if not text:
            ui_warning("Le commentaire est vide.")
            return gr.skip()
        if fid is None:
            ui_warning("Notez d'abord une réponse avec 👍 ou 👎, puis ajoutez votre commentaire.")
            return gr.skip()
        ctx.feedback.comment(fid, text)
        ui_info("Commentaire enregistré, merci.")
        return ""

    send_comment.click(on_comment, [last_feedback, comment], comment, api_name=False)
    comment.submit(on_comment, [last_feedback, comment], comment, api_name=False)
    return {"feedback_comment": comment, "last_feedback": last_feedback}
