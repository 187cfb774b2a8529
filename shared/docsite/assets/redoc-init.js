// Starts ReDoc on the page's #redoc element with the portal's colours and fonts
// (spass.css), from this gateway's /openapi.json.
(() => {
  const root = document.getElementById('redoc');
  const font = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
  Redoc.init(root.dataset.spec, {
    scrollYOffset: '.topbar',
    hideDownloadButton: false,
    expandResponses: '200',
    theme: {
      colors: { primary: { main: '#0f766e' }, success: { main: '#0f766e' }, text: { primary: '#0f172a' } },
      typography: {
        fontFamily: font,
        headings: { fontFamily: font, fontWeight: '600' },
        code: { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace' },
      },
      sidebar: { backgroundColor: '#f8fafc', activeTextColor: '#0f766e' },
      rightPanel: { backgroundColor: '#0b1f2a' },
    },
  }, root);
})();
