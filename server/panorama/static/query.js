// The query editor: SPARQL syntax highlighting under a plain textarea, and Ctrl+Enter to run.
// Written for this project; the page works without it (the textarea is a normal form field).
"use strict";

(function () {
  const textarea = document.getElementById("query");
  const code = document.getElementById("highlight");
  if (!textarea || !code) return;

  const KEYWORDS = new Set(("SELECT CONSTRUCT DESCRIBE ASK WHERE FROM NAMED PREFIX BASE OPTIONAL " +
    "FILTER UNION MINUS GRAPH SERVICE BIND VALUES GROUP BY ORDER HAVING LIMIT OFFSET DISTINCT " +
    "REDUCED AS ASC DESC NOT IN EXISTS UNDEF A COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT " +
    "SEPARATOR STR LANG LANGMATCHES DATATYPE BOUND IRI URI BNODE RAND ABS CEIL FLOOR ROUND CONCAT " +
    "STRLEN UCASE LCASE ENCODE_FOR_URI CONTAINS STRSTARTS STRENDS STRBEFORE STRAFTER YEAR MONTH " +
    "DAY NOW COALESCE IF SAMETERM ISIRI ISURI ISBLANK ISLITERAL ISNUMERIC REGEX REPLACE SUBSTR " +
    "TRUE FALSE").split(" "));
  const TOKEN = new RegExp([
    "(#[^\\n]*)",                                   // comment
    "(\"\"\"[\\s\\S]*?\"\"\"|'''[\\s\\S]*?'''|\"(?:[^\"\\\\\\n]|\\\\.)*\"|'(?:[^'\\\\\\n]|\\\\.)*')", // string
    "(<[^<>\"{}|^`\\\\\\s]*>)",                     // IRI
    "([?$][\\w\\u00C0-\\uFFFF]+)",                  // variable
    "([A-Za-z_][\\w.-]*)?:([\\w.-]*)",              // prefixed name
    "(@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)",               // language tag
    "([A-Za-z_]+)",                                  // word
    "(\\d+(?:\\.\\d+)?)",                            // number
  ].join("|"), "g");

  function escape(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function highlight(text) {
    let html = "";
    let last = 0;
    for (const match of text.matchAll(TOKEN)) {
      html += escape(text.slice(last, match.index));
      const token = escape(match[0]);
      let kind = null;
      if (match[1]) kind = "comment";
      else if (match[2]) kind = "string";
      else if (match[3]) kind = "iri";
      else if (match[4]) kind = "variable";
      else if (match[0].includes(":") && !match[2]) kind = "prefixed";
      else if (match[7]) kind = "lang";
      else if (match[8] && KEYWORDS.has(match[8].toUpperCase())) kind = "keyword";
      else if (match[9]) kind = "number";
      html += kind ? `<span class="tok-${kind}">${token}</span>` : token;
      last = match.index + match[0].length;
    }
    // A final newline keeps the last line's height in the <pre>.
    return html + escape(text.slice(last)) + "\n";
  }

  function update() {
    code.innerHTML = highlight(textarea.value);
    code.parentElement.scrollTop = textarea.scrollTop;
    code.parentElement.scrollLeft = textarea.scrollLeft;
  }

  textarea.addEventListener("input", update);
  textarea.addEventListener("scroll", update);
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      textarea.form.requestSubmit();
    } else if (event.key === "Tab" && !event.shiftKey) {
      event.preventDefault();
      textarea.setRangeText("  ", textarea.selectionStart, textarea.selectionEnd, "end");
      update();
    }
  });
  // A user editing a named query runs their own text, not the named one.
  textarea.addEventListener("input", () => {
    const name = textarea.form.querySelector('input[name="name"]');
    if (name) name.remove();
  }, { once: true });
  document.documentElement.classList.add("js");
  update();
})();
