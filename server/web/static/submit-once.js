/*
 * Creation forms (those carrying a one-time key, `OnceKey` in server/web/views/components.tsx),
 * and the forms marked `data-submit-once` (the public report form, which has no account to hold
 * a key; a person's right forms, whose version refuses a repeat; the merge's confirmation, a
 * second one finds the merged file gone): once a form is sent, its submit buttons are disabled
 * and a second submit is ignored, so a second tap
 * on a slow connection sends nothing. A convenience only: the key makes the server create once
 * whatever the browser sends. A file, not an inline script: the Content-Security-Policy allows
 * none.
 */
(function () {
  'use strict';
  var KEYED = 'input[name="idempotencyKey"]';
  var BUTTONS = 'button[type="submit"], button:not([type]), input[type="submit"]';
  // A form whose answer keeps the page (a letter downloaded) may be sent again after a while:
  // with the same key, the server answers the same letter.
  var RELEASE_MS = 10000;

  function setSent(form, sent) {
    var buttons = form.querySelectorAll(BUTTONS);
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = sent;
    if (sent) form.setAttribute('data-sent', 'true');
    else form.removeAttribute('data-sent');
  }

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (!form.querySelector(KEYED) && !form.hasAttribute('data-submit-once')) return;
    if (event.defaultPrevented) return;
    if (form.getAttribute('data-sent') === 'true') {
      event.preventDefault();
      return;
    }
    form.setAttribute('data-sent', 'true');
    // After this event: a button disabled now would leave its name and value out of the post.
    setTimeout(function () {
      setSent(form, true);
    }, 0);
    setTimeout(function () {
      setSent(form, false);
    }, RELEASE_MS);
  });

  // Back on the page from the browser's history: its forms may be sent again.
  window.addEventListener('pageshow', function (event) {
    if (!event.persisted) return;
    var forms = document.querySelectorAll('form[data-sent="true"]');
    for (var i = 0; i < forms.length; i++) setSent(forms[i], false);
  });
})();
