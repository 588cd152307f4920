// Sends a SAML message to the identity provider as soon as its page loads (the HTTP-POST binding). A file, not
// an inline script, because the Content-Security-Policy forbids inline scripts; without JavaScript the
// page's Continue button does the same.
document.querySelectorAll("form[data-atrium-autosubmit]").forEach((form) => form.submit());
