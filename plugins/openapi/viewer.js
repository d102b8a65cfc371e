(function () {
  "use strict";
  var root = document.getElementById("reference");
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function resolve(doc, s) {
    var seen = 0;
    while (s && s.$ref && seen++ < 20) {
      var parts = s.$ref.replace(/^#\//, "").split("/");
      var cur = doc;
      for (var i = 0; i < parts.length && cur; i++) cur = cur[parts[i]];
      s = cur;
    }
    return s || {};
  }
  function schemaBlock(s) {
    return el("pre", JSON.stringify(s, null, 2));
  }
  function paramTable(params) {
    var t = el("table");
    var head = el("tr");
    ["name", "in", "required", "type", "description"].forEach(function (h) { head.appendChild(el("th", h)); });
    t.appendChild(head);
    params.forEach(function (p) {
      var r = el("tr");
      r.appendChild(el("td", p.name));
      r.appendChild(el("td", p["in"]));
      r.appendChild(el("td", p.required ? "yes" : "no"));
      r.appendChild(el("td", JSON.stringify((p.schema || {}).type || p.schema || {})));
      r.appendChild(el("td", p.description || ""));
      t.appendChild(r);
    });
    return t;
  }
  function render(doc) {
    root.textContent = "";
    var groups = {};
    Object.keys(doc.paths || {}).sort().forEach(function (path) {
      var item = doc.paths[path];
      Object.keys(item).forEach(function (method) {
        var op = item[method];
        var tag = (op.tags && op.tags[0]) || "other";
        (groups[tag] = groups[tag] || []).push({ path: path, method: method, op: op });
      });
    });
    Object.keys(groups).sort().forEach(function (tag) {
      var section = el("section");
      section.id = "tag-" + tag;
      section.appendChild(el("h2", tag));
      groups[tag].forEach(function (g) {
        var d = el("details");
        var sum = el("summary");
        sum.appendChild(el("span", g.method.toUpperCase(), "m m-" + g.method));
        sum.appendChild(el("code", g.path));
        if (g.op.summary) sum.appendChild(el("span", " — " + g.op.summary));
        d.appendChild(sum);
        if (g.op.description) d.appendChild(el("p", g.op.description));
        if (g.op.parameters && g.op.parameters.length) {
          d.appendChild(el("h4", "Parameters"));
          d.appendChild(paramTable(g.op.parameters));
        }
        if (g.op.requestBody) {
          d.appendChild(el("h4", "Request body" + (g.op.requestBody.required ? " (required)" : "")));
          var c = g.op.requestBody.content || {};
          var first = c["application/json"] || c[Object.keys(c)[0]] || {};
          d.appendChild(schemaBlock(first.schema || {}));
        }
        d.appendChild(el("h4", "Responses"));
        Object.keys(g.op.responses || {}).sort().forEach(function (status) {
          var r = resolve(doc, g.op.responses[status]);
          d.appendChild(el("p", status + " " + (r.description || ""), status >= "400" ? "err" : ""));
          var content = r.content || {};
          Object.keys(content).forEach(function (ct) {
            if (status < "400") d.appendChild(schemaBlock(content[ct].schema || {}));
          });
        });
        if (g.op["x-error-codes"]) {
          d.appendChild(el("h4", "Error codes"));
          var ul = el("ul");
          g.op["x-error-codes"].forEach(function (e) {
            var li = el("li");
            li.appendChild(el("code", e.code));
            li.appendChild(el("span", " " + e.message));
            ul.appendChild(li);
          });
          d.appendChild(ul);
        }
        section.appendChild(d);
      });
      root.appendChild(section);
    });
    var comps = (doc.components || {}).schemas || {};
    var models = el("section");
    models.appendChild(el("h2", "Models"));
    Object.keys(comps).sort().forEach(function (name) {
      var d = el("details");
      d.appendChild(el("summary", name));
      d.appendChild(schemaBlock(comps[name]));
      models.appendChild(d);
    });
    root.appendChild(models);
  }
  fetch(root.getAttribute("data-url"), { credentials: "same-origin", headers: { accept: "application/json" } })
    .then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    })
    .then(render)
    .catch(function (err) {
      root.textContent = "";
      root.appendChild(el("p", "Could not load the API document: " + err.message, "err"));
    });
})();
