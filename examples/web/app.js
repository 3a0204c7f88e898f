// The example page: index and search with GraphQL mutations, watch /generate stream through a GraphQL
// subscription (graphql-transport-ws, with the graphql-ws client). No build step, no framework.
(function () {
  "use strict";

  // The gateway that serves this page serves GraphQL beside it; `?graphql=<url>` points elsewhere
  // (that gateway must then allow this page's origin in its CORS settings).
  const params = new URLSearchParams(window.location.search);
  const GRAPHQL_URL = new URL(params.get("graphql") || "graphql", window.location.href).href;
  const WS_URL = GRAPHQL_URL.replace(/^http/, "ws");

  const INDEX_MUTATION = `
    mutation Index($data: [IndexRequestInput!]!) {
      index(data: $data) { id uri chunks { text } }
    }`;
  const SEARCH_MUTATION = `
    mutation Search($data: [SearchQueryInput!]!, $parameters: JSON) {
      search(data: $data, parameters: $parameters) { text matches { id text uri scores } }
    }`;
  const GENERATE_SUBSCRIPTION = `
    subscription Generate($data: [PromptInput!]!) {
      generate(data: $data) { text index }
    }`;

  const $ = (id) => document.getElementById(id);

  // ---- errors, in plain words -------------------------------------------------------------------

  /** One GraphQL error as a sentence a person can act on. */
  function describeGraphQLError(error) {
    const ext = error.extensions || {};
    const message = error.message || "unknown error";
    if (ext.executor) {
      // The gateway names the executor and the kind of failure (extensions.exceptionType); the
      // transport details (addresses, gRPC codes) mean nothing to a person using this page.
      if (ext.exceptionType === "ServiceUnavailable") {
        return `The "${ext.executor}" step is not reachable right now (is it running?). Try again in a moment.`;
      }
      if (ext.exceptionType === "RequestTimeout") {
        return `The "${ext.executor}" step did not answer in time. Try again in a moment.`;
      }
      return `The "${ext.executor}" step failed: ${ext.message || message}`;
    }
    return message;
  }

  function describeErrors(errors) {
    return errors.map(describeGraphQLError).join(" · ");
  }

  function showError(id, text) {
    const element = $(id);
    element.textContent = text;
    element.hidden = !text;
  }

  // ---- queries and mutations over HTTP ----------------------------------------------------------

  /** POST one operation; resolves to `data`, or rejects with an Error whose message is plain words. */
  async function graphql(query, variables) {
    let response;
    try {
      response = await fetch(GRAPHQL_URL, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ query, variables }),
      });
    } catch (_networkError) {
      throw new Error(`Cannot reach the flowql gateway at ${GRAPHQL_URL}. Is it running?`);
    }
    let body = null;
    try {
      body = await response.json();
    } catch (_notJson) {
      throw new Error(`The gateway answered HTTP ${response.status} ${response.statusText} without a GraphQL result.`);
    }
    if (body.errors && body.errors.length) {
      throw new Error(describeErrors(body.errors));
    }
    if (!response.ok) {
      throw new Error(`The gateway answered HTTP ${response.status} ${response.statusText}.`);
    }
    return body.data;
  }

  async function withBusy(button, work) {
    button.disabled = true;
    try {
      await work();
    } finally {
      button.disabled = false;
    }
  }

  // ---- 1. index -----------------------------------------------------------------------------------

  $("index-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("index-text").value.trim();
    const uri = $("index-uri").value.trim() || null;
    showError("index-error", "");
    $("index-status").textContent = "";
    if (!text) {
      showError("index-error", "Type or paste some text to index first.");
      return;
    }
    withBusy($("index-button"), async () => {
      try {
        const data = await graphql(INDEX_MUTATION, { data: [{ text, uri }] });
        const sentences = data.index.reduce((count, doc) => count + doc.chunks.length, 0);
        $("index-status").textContent = `Indexed ${sentences} sentence${sentences === 1 ? "" : "s"}.`;
      } catch (error) {
        showError("index-error", error.message);
      }
    });
  });

  // ---- 2. search ----------------------------------------------------------------------------------

  function renderMatches(matches) {
    const list = $("search-results");
    list.replaceChildren();
    for (const match of matches) {
      const item = document.createElement("li");
      const score = document.createElement("span");
      score.className = "score";
      const cosine = match.scores && typeof match.scores.cosine === "number" ? match.scores.cosine : NaN;
      score.textContent = Number.isNaN(cosine) ? "–" : cosine.toFixed(3);
      score.title = "cosine similarity";
      const text = document.createElement("span");
      text.className = "match-text";
      text.textContent = match.text;
      item.append(score, text);
      if (match.uri) {
        const source = document.createElement("span");
        source.className = "source";
        source.textContent = match.uri;
        item.append(source);
      }
      list.append(item);
    }
  }

  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("search-text").value.trim();
    const topK = Number($("search-topk").value);
    showError("search-error", "");
    $("search-status").textContent = "";
    if (!text) {
      showError("search-error", "Type what to look for first.");
      return;
    }
    withBusy($("search-button"), async () => {
      try {
        const data = await graphql(SEARCH_MUTATION, { data: [{ text }], parameters: { top_k: topK } });
        const matches = data.search.length ? data.search[0].matches : [];
        renderMatches(matches);
        $("search-status").textContent = matches.length
          ? `${matches.length} match${matches.length === 1 ? "" : "es"}, best first.`
          : "No matches: index some text first.";
      } catch (error) {
        renderMatches([]);
        showError("search-error", error.message);
      }
    });
  });

  // ---- 3. generate (subscription) -------------------------------------------------------------------

  const wsClient = window.graphqlWs.createClient({
    url: WS_URL,
    lazy: true,
    // Report a dead gateway at once instead of retrying quietly in the background.
    retryAttempts: 0,
  });
  let stopGeneration = null;

  /** What the graphql-ws `error` sink received, in plain words. */
  function describeSubscriptionError(error) {
    if (Array.isArray(error)) return describeErrors(error);
    if (error && typeof error.code === "number") {
      // A CloseEvent: the socket closed or could not open.
      if (error.code === 1006 || error.code === 1001) {
        return `Lost the connection to the flowql gateway at ${WS_URL}. Is it running?`;
      }
      return `The gateway closed the subscription (${error.code}${error.reason ? ": " + error.reason : ""}).`;
    }
    if (error && error.message) return error.message;
    return `Cannot reach the flowql gateway at ${WS_URL}. Is it running?`;
  }

  function setGenerating(running) {
    $("generate-button").disabled = running;
    $("generate-stop").disabled = !running;
  }

  $("generate-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("generate-prompt").value.trim();
    const maxTokens = Number($("generate-max").value);
    const output = $("generate-output");
    showError("generate-error", "");
    if (!text) {
      showError("generate-error", "Type a prompt first.");
      return;
    }
    output.textContent = "";
    output.dataset.state = "streaming";
    output.dataset.tokens = "0";
    $("generate-status").textContent = "Waiting for the first token…";
    setGenerating(true);
    const started = performance.now();
    let tokens = 0;

    const finish = (state, message) => {
      output.dataset.state = state;
      $("generate-status").textContent = message;
      setGenerating(false);
      stopGeneration = null;
    };

    stopGeneration = wsClient.subscribe(
      { query: GENERATE_SUBSCRIPTION, variables: { data: [{ text, maxTokens }] } },
      {
        next(result) {
          if (result.errors && result.errors.length) {
            showError("generate-error", describeErrors(result.errors));
            return;
          }
          const token = result.data && result.data.generate;
          if (!token) return;
          tokens += 1;
          output.textContent += token.text;
          output.dataset.tokens = String(tokens);
          $("generate-status").textContent = `Streaming… ${tokens} token${tokens === 1 ? "" : "s"}`;
        },
        error(error) {
          showError("generate-error", describeSubscriptionError(error));
          finish("error", `Stopped after ${tokens} token${tokens === 1 ? "" : "s"}.`);
        },
        complete() {
          if (output.dataset.state !== "streaming") return;
          const seconds = ((performance.now() - started) / 1000).toFixed(1);
          finish("done", `Done: ${tokens} token${tokens === 1 ? "" : "s"} in ${seconds} s.`);
        },
      },
    );
  });

  $("generate-stop").addEventListener("click", () => {
    if (!stopGeneration) return;
    const stop = stopGeneration;
    $("generate-output").dataset.state = "stopped";
    $("generate-status").textContent = `Stopped after ${$("generate-output").dataset.tokens} tokens.`;
    setGenerating(false);
    stopGeneration = null;
    stop();
  });

  // ---- start-up ------------------------------------------------------------------------------------

  $("endpoint").textContent = GRAPHQL_URL;
  $("graphiql-link").href = GRAPHQL_URL;
})();
