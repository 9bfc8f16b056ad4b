/* global document, window, React, ReactDOM, GraphiQL */
// Mounts GraphiQL with the features Mercurius' built-in page had: the header editor (for the
// Authorization: Bearer token) and headers kept across reloads. The globals come from the
// UMD bundles the page loads just before this script, all served by Jotter itself.
'use strict'

const container = document.getElementById('graphiql')
const fetcher = GraphiQL.createFetcher({ url: new URL(container.dataset.endpoint, window.location.href).href })
ReactDOM.createRoot(container).render(React.createElement(GraphiQL, {
  fetcher,
  isHeadersEditorEnabled: true,
  shouldPersistHeaders: true
}))
