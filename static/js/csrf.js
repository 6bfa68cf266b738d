// htmx requests carry the CSRF token in a header (forms also carry it as a field).
document.addEventListener("htmx:configRequest", function (evenement) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    evenement.detail.headers["X-CSRFToken"] = meta.content;
  }
});
