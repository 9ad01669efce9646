// Review page: list flagged messages, confirm / correct / skip each one (desk session cookie).
"use strict";
(function () {
  const rows = document.getElementById("rows");
  const alertBox = document.getElementById("alert");

  function show(message) {
    alertBox.textContent = message;
    alertBox.hidden = !message;
  }

  async function api(path, body) {
    const response = await fetch(path, {
      method: body ? "POST" : "GET",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
      credentials: "same-origin",
    });
    const data = await response.json().catch(() => ({}));
    if (response.status === 401) { window.location.href = "/desk"; }
    if (!response.ok) { throw new Error(data.error || response.statusText); }
    return data;
  }

  function cell(tr, text) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function row(item, intents) {
    const tr = document.createElement("tr");
    cell(tr, item.text);
    const conf = item.confidence == null ? "" : ` (${item.confidence.toFixed(2)})`;
    cell(tr, (item.intent || "—") + conf);
    cell(tr, item.flags.join(", ") + (item.agent_reply ? ` — agent: “${item.agent_reply}”` : ""));
    const select = document.createElement("select");
    for (const name of intents) {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = name;
      option.selected = name === item.intent;
      select.appendChild(option);
    }
    cell(tr, "").appendChild(select);
    const entities = document.createElement("textarea");
    entities.rows = 2;
    entities.value = JSON.stringify(item.entities || []);
    cell(tr, "").appendChild(entities);
    const actions = cell(tr, "");
    for (const decision of ["confirm", "correct", "skip"]) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = decision;
      button.addEventListener("click", async () => {
        try {
          const body = { decision };
          if (decision === "correct") {
            body.intent = select.value;
            body.entities = JSON.parse(entities.value || "[]");
          }
          await api(`/api/desk/review/${item.id}`, body);
          tr.remove();
          show("");
        } catch (error) {
          show(error.message);
        }
      });
      actions.appendChild(button);
    }
    return tr;
  }

  async function load() {
    try {
      const data = await api("/api/desk/review");
      document.getElementById("source").textContent = data.export ? `Export: ${data.export}` : "No export yet.";
      rows.replaceChildren(...data.items.map((item) => row(item, data.intents)));
      document.getElementById("empty").hidden = data.items.length > 0;
    } catch (error) {
      show(error.message);
    }
  }
  load();
})();
