"""Gradio's own strings in French.

Gradio translates its interface with svelte-i18n, by the browser's language; its French catalogue lacks some
strings (« Copy message » on every chat bubble, « Download All »…) and says « télécharger » (download) for
« upload ». ``gradio_i18n()`` gives ``launch(i18n=…)`` our French for every key the app's components use, and
for every locale Gradio ships, so the page reads French whatever the browser's language. Custom keys are
flat (« chatbot.copy_message »): svelte-i18n looks a flat key up before the nested catalogue, so ours win.

A few strings are written in Gradio's JavaScript without any translation key (the progress line
« processing | 0.3s », file sizes « 12.3 KB », screen-reader labels « bot's message: », « Close », « Remove
this file »):
``DOM_TRANSLATIONS`` is a small script that rewrites them as they appear."""
from __future__ import annotations

import gradio as gr

FRENCH = {
    "chatbot.edit": "Modifier", "chatbot.retry": "Réessayer", "chatbot.undo": "Annuler", "chatbot.submit": "Envoyer",
    "chatbot.cancel": "Annuler", "chatbot.like": "J'aime", "chatbot.dislike": "Je n'aime pas",
    "chatbot.clear": "Effacer la conversation", "chatbot.complete": "Terminé",
    "chatbot.copy_message": "Copier le message", "chatbot.copied_message": "Message copié",
    "chat_interface.new_chat": "Nouvelle conversation", "chat_interface.message_placeholder": "Votre message…",
    "chat_interface.additional_inputs": "Autres champs", "chat_interface.chatbot": "Conversation",
    "chat_interface.conversation": "Conversation",
    "checkbox.checkbox": "Case à cocher", "checkbox.checkbox_group": "Groupe de cases à cocher",
    "common.built_with": "créé avec", "common.built_with_gradio": "Créé avec Gradio", "common.clear": "Effacer",
    "common.download": "Télécharger", "common.download_all": "Tout télécharger", "common.edit": "Modifier",
    "common.empty": "Vide", "common.error": "Erreur", "common.hosted_on": "Hébergé sur", "common.loading": "Chargement",
    "common.or": "ou", "common.remove": "Retirer", "common.settings": "Paramètres", "common.share": "Partager",
    "common.submit": "Envoyer", "common.undo": "Annuler", "common.no_devices": "Aucun périphérique trouvé",
    "common.language": "Langue", "common.display_theme": "Thème d'affichage", "common.pwa": "Application web",
    "common.progress": "Progression", "common.record": "Enregistrer", "common.stop_recording": "Arrêter",
    "common.run": "Lancer", "common.runs": "Exécutions", "common.back_to_app": "Application",
    "dataframe.incorrect_format": "Format incorrect : seuls les fichiers CSV et TSV sont acceptés",
    "dataframe.new_column": "Ajouter une colonne", "dataframe.new_row": "Nouvelle ligne",
    "dataframe.add_row_above": "Ajouter une ligne au-dessus", "dataframe.add_row_below": "Ajouter une ligne en dessous",
    "dataframe.delete_row": "Supprimer la ligne", "dataframe.delete_column": "Supprimer la colonne",
    "dataframe.add_column_left": "Ajouter une colonne à gauche", "dataframe.add_column_right": "Ajouter une colonne à droite",
    "dataframe.sort_column": "Trier la colonne", "dataframe.sort_ascending": "Tri croissant",
    "dataframe.sort_descending": "Tri décroissant", "dataframe.clear_sort": "Annuler le tri",
    "dataframe.filter": "Filtrer", "dataframe.clear_filter": "Retirer les filtres",
    "dataframe.drop_to_upload": "Déposez ici un fichier CSV ou TSV",
    "dropdown.dropdown": "Liste déroulante",
    "errors.contact_page_author": "Prévenez l'administrateur de Veille.",
    "errors.runtime_error": "une erreur d'exécution est survenue", "errors.use_via_api": "Utiliser par l'API",
    "errors.use_via_api_or_mcp": "Utiliser par l'API ou MCP",
    "blocks.lost_connection": "Connexion perdue : la page se reconnecte…",
    "blocks.waiting_for_inputs": "Envoi des fichiers en cours : réessayez dans un instant.",
    "file.uploading": "Envoi en cours…",
    "login.username": "identifiant", "login.password": "mot de passe", "login.login": "Se connecter",
    "login.incorrect_credentials": "Identifiant ou mot de passe incorrect",
    "status.queue_position": "En file d'attente : {position} sur {size}",
    "upload_text.click_to_upload": "Cliquez pour choisir des fichiers",
    "upload_text.drop_file": "Déposez les fichiers ici", "upload_text.drop_csv": "Déposez le fichier CSV ici",
    "upload_text.drop_image": "Déposez l'image ici", "upload_text.drop_audio": "Déposez l'audio ici",
    "upload_text.drop_video": "Déposez la vidéo ici", "upload_text.drop_gallery": "Déposez les médias ici",
    "upload_text.paste_clipboard": "Coller depuis le presse-papiers",
}

# Every locale Gradio 6 ships a catalogue for: whatever the browser's language, the page reads French.
LOCALES = ("ar", "ca", "ckb", "de", "en", "es", "et", "eu", "fa", "fi", "fr", "he", "hi", "ja", "ko", "lt", "nb",
           "nl", "pl", "pt-BR", "pt", "ro", "ru", "sv", "ta", "th", "tr", "uk", "ur", "uz", "zh-CN", "zh-TW")


def gradio_i18n() -> gr.I18n:
    return gr.I18n(**{locale: dict(FRENCH) for locale in LOCALES})


# Strings Gradio writes without a translation key, rewritten where they appear (text and aria-label).
DOM_TRANSLATIONS = r"""
(function () {
  const units = {B: 'octets', KB: 'Ko', MB: 'Mo', GB: 'Go', TB: 'To', PB: 'Po'};
  const comma = s => s.replace('.', ',');
  function text(t) {
    let out = t.replace(/^(\s*)processing \|/, '$1traitement |').replace(/^(\s*)queue: /, '$1file d\'attente : ')
      .replace(/(\d+)\.(\d)s\b/g, '$1,$2 s').replace(/\bfrom cache\b/, 'en cache').replace(/\bused cache\b/, 'cache utilisé');
    out = out.replace(/(\d+(?:\.\d+)?)(?:\s|&nbsp;|\u00a0)(B|KB|MB|GB|TB|PB)\b/g, (m, n, u) => comma(n) + '\u00a0' + units[u]);
    return out;
  }
  function label(t) {
    const out = t.replace(/^bot's message: /, 'Réponse de Veille : ').replace(/^user's message: /, 'Votre question : ')
      .replace(/^Close$/, 'Fermer').replace(/^Clear$/, 'Effacer').replace(/^Remove$/, 'Retirer')
      .replace(/^Remove this file$/, 'Retirer ce fichier');
    // A message read aloud as text, not as its HTML (« <a href=… class="cite"> »).
    return out === t ? out : out.replace(/<[^>]*>/g, '').replace(/\s+/g, ' ').slice(0, 300);
  }
  function fix(node) {
    if (node.nodeType === 3) {
      // Corpus text and answers are left exactly as written.
      const parent = node.parentElement;
      if (parent && parent.closest('.prose, .md, .message-content, #sources-panel, #doc-view, #brief-note, ' +
                                   '#brief-sources, #watches-news, textarea')) return;
      const t = text(node.nodeValue);
      if (t !== node.nodeValue) node.nodeValue = t;
      return;
    }
    if (node.nodeType !== 1) return;
    for (const attr of ['aria-label', 'title']) {
      const v = node.getAttribute(attr);
      if (v) { const t = label(v); if (t !== v) node.setAttribute(attr, t); }
    }
    node.querySelectorAll && node.querySelectorAll('[aria-label],[title]').forEach(fix);
    const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) fix(n);
  }
  const observer = new MutationObserver(records => {
    for (const r of records) {
      if (r.type === 'characterData') fix(r.target);
      else if (r.type === 'attributes') fix(r.target);
      else r.addedNodes.forEach(fix);
    }
  });
  function start() {
    fix(document.body);
    observer.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true,
                                     attributeFilter: ['aria-label', 'title']});
  }
  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);
})();
"""
