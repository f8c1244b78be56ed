/*
 * auth0-tsoa-api — Swagger UI plugin for DPoP (RFC 9449) and OAuth2 token testing.
 *
 * Served by `swaggerUiHandlers()` (auth0-tsoa-api/express) at `<docs>/auth0-tsoa-api/swagger-dpop-plugin.js`,
 * next to `dpop.js` (the package's WebCrypto DPoP helper, imported on demand). No CDN, no build step: a classic
 * script that defines `window.auth0TsoaApiSwagger`, which the Swagger UI options call into:
 *
 * - plugin(system): shows the `http` `DPoP` scheme in "Authorize" with a token field (Swagger UI only knows Basic
 *   and Bearer) and this browser's key thumbprint; adds a "bind OAuth2 tokens to this browser's DPoP key" switch
 *   to the OAuth2 flows (on by default; locked on when the API requires DPoP); pre-fills the client credentials
 *   flow when the server configured it (development).
 * - requestInterceptor(request): for operations that accept DPoP, sends `Authorization: DPoP <token>` and a fresh
 *   proof with `ath`; adds a proof to requests that already carry `Authorization: DPoP …` (OAuth2 tokens of
 *   token_type DPoP) and to OAuth2 token requests when the switch is on; retries once on `use_dpop_nonce`.
 * - keyPair(), thumbprint(), resetKey(): the ES256 key, created non-extractable and kept in IndexedDB, so that
 *   tokens bound to it keep working after a reload (with `persistAuthorization`). A stored key is used only when
 *   it is a non-extractable ECDSA P-256 private key with its matching public key; anything else is replaced.
 */
(function () {
  'use strict';

  var LOG = '[auth0-tsoa-api]';
  var DB_NAME = 'auth0-tsoa-api';
  var STORE = 'keys';
  var KEY_ID = 'dpop-es256';
  var OPT_IN = 'auth0-tsoa-api:dpop-oauth2';
  var STANDARD_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'];
  var HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

  var script = document.currentScript;
  var base = new URL('.', (script && script.src) || new URL('auth0-tsoa-api/', location.href).href);

  var system = null;
  var helper = null;
  var keyPromise = null;
  var nonces = new Map(); // origin -> last DPoP-Nonce
  var optInListeners = new Set();

  function lib() {
    if (!helper) {
      helper = import(new URL('dpop.js', base).href).catch(function (error) {
        helper = null;
        throw error;
      });
    }
    return helper;
  }

  function config() {
    var all = (system && system.getConfigs && system.getConfigs()) || {};
    return all.auth0TsoaApi || {};
  }

  // ------------------------------------------------------------------------------------------
  // The key: non-extractable ES256, kept in IndexedDB (CryptoKey objects survive structured clone)
  // ------------------------------------------------------------------------------------------

  /** Opens the database at its current version, adding the key store (with a version bump) when it is missing. */
  function openDb() {
    return openDbAt(undefined).then(function (db) {
      if (db.objectStoreNames.contains(STORE)) return db;
      // Someone made the database without our store (e.g. a script that replaced it): add the store back.
      var next = db.version + 1;
      db.close();
      return openDbAt(next);
    });
  }

  function openDbAt(version) {
    return new Promise(function (resolve, reject) {
      var request = version === undefined ? indexedDB.open(DB_NAME) : indexedDB.open(DB_NAME, version);
      request.onupgradeneeded = function () {
        if (!request.result.objectStoreNames.contains(STORE)) request.result.createObjectStore(STORE);
      };
      request.onsuccess = function () {
        var db = request.result;
        // Another tab upgrading the database must not wait for us.
        db.onversionchange = function () {
          db.close();
        };
        resolve(db);
      };
      request.onerror = function () {
        reject(request.error);
      };
    });
  }

  function inStore(db, mode, action) {
    return new Promise(function (resolve, reject) {
      var tx = db.transaction(STORE, mode);
      var request = action(tx.objectStore(STORE));
      tx.oncomplete = function () {
        resolve(request && request.result);
      };
      tx.onerror = function () {
        reject(tx.error || (request && request.error));
      };
      tx.onabort = function () {
        reject(tx.error || (request && request.error));
      };
    });
  }

  function isP256Ecdsa(key) {
    var algorithm = key.algorithm || {};
    return algorithm.name === 'ECDSA' && algorithm.namedCurve === 'P-256';
  }

  function hasUsage(key, usage) {
    return Array.isArray(key.usages) && key.usages.indexOf(usage) >= 0;
  }

  /**
   * Why a stored record is not a key pair this page may sign with, or '' when its form is right. Anything in
   * IndexedDB may have been written by another script of this origin (an XSS, once): only a non-extractable
   * ECDSA P-256 private key can keep the promise that no script can copy the key out and reuse it elsewhere.
   * Synchronous, so that it can run inside an IndexedDB transaction. What no check can see: key material a script
   * knew and imported as non-extractable (WebCrypto does not tell generated keys from imported ones); after an
   * XSS, call `window.auth0TsoaApiSwagger.resetKey()`.
   */
  function storedKeyProblem(stored) {
    if (!stored || typeof stored !== 'object') return 'the record is not a key pair';
    var privateKey = stored.privateKey;
    var publicKey = stored.publicKey;
    if (typeof CryptoKey !== 'function' || !(privateKey instanceof CryptoKey) || !(publicKey instanceof CryptoKey)) {
      return 'the record does not hold two CryptoKey objects';
    }
    if (privateKey.type !== 'private') return 'privateKey is a ' + privateKey.type + ' key';
    if (privateKey.extractable !== false) return 'the private key is extractable';
    if (!isP256Ecdsa(privateKey)) return 'the private key is not an ECDSA P-256 key';
    if (!hasUsage(privateKey, 'sign')) return 'the private key may not sign';
    if (publicKey.type !== 'public') return 'publicKey is a ' + publicKey.type + ' key';
    if (!isP256Ecdsa(publicKey) || !hasUsage(publicKey, 'verify')) return 'the public key is not an ECDSA P-256 verification key';
    return '';
  }

  /** storedKeyProblem, then: do the two halves belong together? (A signature by one verifies with the other.) */
  async function keyPairProblem(stored) {
    var problem = storedKeyProblem(stored);
    if (problem) return problem;
    var params = { name: 'ECDSA', hash: 'SHA-256' };
    var challenge = crypto.getRandomValues(new Uint8Array(32));
    try {
      var signature = await crypto.subtle.sign(params, stored.privateKey, challenge);
      if (await crypto.subtle.verify(params, stored.publicKey, signature, challenge)) return '';
    } catch (error) {
      return 'the keys cannot sign and verify (' + (error && error.name) + ')';
    }
    return 'the public key does not match the private key';
  }

  function discarding(problem) {
    console.warn(LOG, 'discarding the stored DPoP key (' + problem + '); making a new one');
  }

  async function loadOrCreateKey() {
    var dpop = await lib();
    var db;
    try {
      db = await openDb();
    } catch (error) {
      console.warn(LOG, 'IndexedDB is unavailable: the DPoP key lasts until the page is reloaded', error);
      return dpop.createDpopKeyPair();
    }
    try {
      var stored = await inStore(db, 'readonly', function (store) {
        return store.get(KEY_ID);
      });
      if (stored !== undefined) {
        var problem = await keyPairProblem(stored);
        if (!problem) return { privateKey: stored.privateKey, publicKey: stored.publicKey };
        discarding(problem);
      }

      var created = await dpop.createDpopKeyPair();
      var record = { privateKey: created.privateKey, publicKey: created.publicKey };
      // Store ours, replacing what was there, unless another tab stored a well-formed key meanwhile: then use that
      // one, so that tokens bound in either tab keep working. (When the record we discarded was itself well-formed,
      // its halves did not match: a well-formed record now may be that same one, so ours replaces it.) The check
      // runs inside the transaction, so nothing slips in between.
      var mayAdopt = stored === undefined || storedKeyProblem(stored) !== '';
      var current = await new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, 'readwrite');
        var store = tx.objectStore(STORE);
        var result = record;
        var read = store.get(KEY_ID);
        read.onsuccess = function () {
          if (mayAdopt && read.result !== undefined && !storedKeyProblem(read.result)) result = read.result;
          else store.put(record, KEY_ID);
        };
        tx.oncomplete = function () {
          resolve(result);
        };
        tx.onerror = tx.onabort = function () {
          reject(tx.error || read.error);
        };
      });
      if (current === record) return created;
      var winnerProblem = await keyPairProblem(current);
      if (!winnerProblem) return { privateKey: current.privateKey, publicKey: current.publicKey };
      discarding(winnerProblem);
      await inStore(db, 'readwrite', function (store) {
        return store.put(record, KEY_ID);
      });
      return created;
    } finally {
      db.close();
    }
  }

  /** The browser's DPoP key pair (created on first use). */
  function keyPair() {
    if (!keyPromise) {
      keyPromise = loadOrCreateKey().catch(function (error) {
        keyPromise = null;
        throw error;
      });
    }
    return keyPromise;
  }

  /** The key's RFC 7638 thumbprint: the `cnf.jkt` a token must carry to be usable from this browser. */
  async function thumbprint() {
    var dpop = await lib();
    return dpop.jwkThumbprint(await keyPair());
  }

  /** Deletes the stored key; the next request creates a new one (tokens bound to the old key stop working). */
  async function resetKey() {
    keyPromise = null;
    var db = await openDb();
    try {
      await inStore(db, 'readwrite', function (store) {
        return store.delete(KEY_ID);
      });
    } finally {
      db.close();
    }
  }

  // ------------------------------------------------------------------------------------------
  // What the spec says: which scheme is DPoP, which operations accept it, the token endpoints
  // ------------------------------------------------------------------------------------------

  var specCache = { source: null, info: null };

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }

  function specInfo() {
    var source = system && system.specSelectors.specJson();
    if (specCache.source === source && specCache.info) return specCache.info;
    var spec = source && source.toJS ? source.toJS() : {};
    var schemes = (spec.components && spec.components.securitySchemes) || {};
    var dpopSchemes = [];
    var tokenUrls = [];
    Object.keys(schemes).forEach(function (name) {
      var scheme = schemes[name] || {};
      if (scheme.type === 'http' && String(scheme.scheme || '').toLowerCase() === 'dpop') dpopSchemes.push(name);
      if (scheme.type === 'oauth2' && scheme.flows) {
        Object.keys(scheme.flows).forEach(function (flow) {
          var tokenUrl = scheme.flows[flow] && scheme.flows[flow].tokenUrl;
          if (tokenUrl) tokenUrls.push(new URL(tokenUrl, location.href).href);
        });
      }
    });
    var operations = [];
    Object.keys(spec.paths || {}).forEach(function (path) {
      var item = spec.paths[path] || {};
      HTTP_METHODS.forEach(function (method) {
        var operation = item[method];
        if (!operation) return;
        var security = operation.security || spec.security || [];
        var acceptsDpop = security.some(function (requirement) {
          return Object.keys(requirement).some(function (name) {
            return dpopSchemes.indexOf(name) >= 0;
          });
        });
        // Path templates match any non-empty segment; the server URL's base path may come before them.
        var pattern = escapeRegExp(path).replace(/\\\{[^/]+?\\\}/g, '[^/]+');
        operations.push({ method: method.toUpperCase(), regex: new RegExp(pattern + '$'), length: path.length, acceptsDpop: acceptsDpop });
      });
    });
    operations.sort(function (a, b) {
      return b.length - a.length;
    });
    specCache = { source: source, info: { dpopSchemes: dpopSchemes, tokenUrls: tokenUrls, operations: operations } };
    return specCache.info;
  }

  function withoutQuery(url) {
    var u = new URL(url, location.href);
    return u.origin + u.pathname;
  }

  function isTokenRequest(request) {
    var target = withoutQuery(request.url);
    return specInfo().tokenUrls.some(function (tokenUrl) {
      return withoutQuery(tokenUrl) === target;
    });
  }

  function operationAcceptsDpop(url, method) {
    var pathname = new URL(url, location.href).pathname;
    var operations = specInfo().operations;
    for (var i = 0; i < operations.length; i++) {
      var op = operations[i];
      if (op.method === method && op.regex.test(pathname)) return op.acceptsDpop;
    }
    return false;
  }

  function pastedDpopToken() {
    var authorized = system.authSelectors.authorized();
    var names = specInfo().dpopSchemes;
    for (var i = 0; i < names.length; i++) {
      var value = authorized && authorized.getIn([names[i], 'value']);
      if (typeof value === 'string' && value.trim()) return value.trim();
    }
    return undefined;
  }

  // ------------------------------------------------------------------------------------------
  // "Bind OAuth2 tokens to this browser's DPoP key"
  // ------------------------------------------------------------------------------------------

  /** True when the API requires DPoP: OAuth2 tokens are then always bound, and the switch is locked on. */
  function dpopForOAuth2Required() {
    return config().dpopOAuth2Required === true;
  }

  /**
   * Whether OAuth2 token requests get a proof (so the issuer binds the token to this browser's key). On by default
   * when the page does DPoP (RFC 9449 §5); in allowed mode the user's switch, remembered in localStorage, decides.
   */
  function dpopForOAuth2() {
    var c = config();
    if (!c.dpop) return false;
    if (dpopForOAuth2Required()) return true;
    var saved = null;
    try {
      saved = localStorage.getItem(OPT_IN);
    } catch (error) {
      /* storage blocked: fall back to the default */
    }
    if (saved === '1') return true;
    if (saved === '0') return false;
    return c.dpopOAuth2 !== false;
  }

  function setDpopForOAuth2(on) {
    try {
      localStorage.setItem(OPT_IN, on ? '1' : '0');
    } catch (error) {
      /* storage blocked */
    }
    optInListeners.forEach(function (listener) {
      listener(on);
    });
  }

  // ------------------------------------------------------------------------------------------
  // Requests
  // ------------------------------------------------------------------------------------------

  function headerName(headers, wanted) {
    var names = Object.keys(headers || {});
    for (var i = 0; i < names.length; i++) if (names[i].toLowerCase() === wanted) return names[i];
    return undefined;
  }

  function fetchMethod(method) {
    var upper = String(method || 'GET').toUpperCase();
    return STANDARD_METHODS.indexOf(upper) >= 0 ? upper : String(method);
  }

  /**
   * Adds a proof to a swagger-js request, and a `userFetch` that retries once with the server's nonce when
   * answered `use_dpop_nonce` (401 from an API, 400 from a token endpoint) and remembers nonces per origin.
   */
  async function attachProof(request, accessToken) {
    var dpop = await lib();
    var keys = await keyPair();
    var url = new URL(request.url, location.href);
    var method = fetchMethod(request.method);
    var prove = function (nonce) {
      return dpop.createDpopProof(keys, { url: url.href, method: method, accessToken: accessToken, nonce: nonce });
    };
    var existing = headerName(request.headers, 'dpop');
    if (existing) delete request.headers[existing];
    request.headers.DPoP = await prove(nonces.get(url.origin));

    var inner = request.userFetch;
    request.userFetch = async function (target, init) {
      var send =
        inner ||
        function (a, b) {
          return fetch(a, b);
        };
      var response = await send(target, init);
      var nonce = await dpop.nonceToRetryWith(response);
      var seen = response.headers.get('DPoP-Nonce');
      if (seen) nonces.set(url.origin, seen);
      if (nonce === undefined) return response;
      init.headers.DPoP = await prove(nonce);
      response = await send(target, init);
      seen = response.headers.get('DPoP-Nonce');
      if (seen) nonces.set(url.origin, seen);
      return response;
    };
  }

  /** Swagger UI's `requestInterceptor` (swagger-js awaits it). Never throws: a failure leaves the request as is. */
  async function requestInterceptor(request) {
    try {
      if (!system || !config().dpop) return request;
      request.headers = request.headers || {};
      if (isTokenRequest(request)) {
        if (dpopForOAuth2()) await attachProof(request, undefined);
        return request;
      }
      var authName = headerName(request.headers, 'authorization');
      var current = authName ? String(request.headers[authName]) : '';
      var token;
      var scheme = /^DPoP\s+(.+)$/i.exec(current);
      if (scheme) {
        token = scheme[1].trim(); // an OAuth2 token of token_type DPoP, sent as such by swagger-js
      } else {
        var pasted = pastedDpopToken();
        if (pasted && operationAcceptsDpop(request.url, fetchMethod(request.method))) token = pasted;
      }
      if (!token) return request;
      if (authName) delete request.headers[authName];
      request.headers.Authorization = 'DPoP ' + token;
      await attachProof(request, token);
    } catch (error) {
      console.error(LOG, 'could not add a DPoP proof', error);
    }
    return request;
  }

  // ------------------------------------------------------------------------------------------
  // Components
  // ------------------------------------------------------------------------------------------

  function useThumbprint(React) {
    var state = React.useState('');
    React.useEffect(function () {
      var live = true;
      thumbprint().then(
        function (jkt) {
          if (live) state[1](jkt);
        },
        function (error) {
          console.error(LOG, error);
          if (live) state[1]('unavailable: ' + (error && error.message));
        },
      );
      return function () {
        live = false;
      };
    }, []);
    return state[0];
  }

  /** The Authorize dialog entry of an `http` DPoP scheme: a token field like Bearer's, plus the key thumbprint. */
  function DpopAuth(props) {
    var React = system.React;
    var h = React.createElement;
    var getComponent = props.getComponent;
    var Input = getComponent('Input');
    var Row = getComponent('Row');
    var Col = getComponent('Col');
    var AuthError = getComponent('authError');
    var Markdown = getComponent('Markdown', true);
    var JumpToPath = getComponent('JumpToPath', true);
    var name = props.name;
    var schema = props.schema;
    var value = props.authorized && props.authorized.getIn([name, 'value']);
    var errors = props.errSelectors.allErrors().filter(function (error) {
      return error.get('authId') === name;
    });
    var jkt = useThumbprint(React);
    var inputId = 'auth-dpop-value-' + name;
    return h(
      'div',
      { className: 'auth0-tsoa-api-dpop' },
      h('h4', null, h('code', null, name), '  (http, DPoP)', h(JumpToPath, { path: props.authSelectors.selectAuthPath(name) })),
      value && h('h6', null, 'Authorized'),
      h(Row, null, h(Markdown, { source: schema.get('description') })),
      h(
        Row,
        null,
        h(
          'p',
          null,
          'Proofs are signed in this browser with a non-extractable ES256 key kept in IndexedDB. The token must be bound to it: ',
          h('code', null, 'cnf.jkt'),
          ' = ',
          h('code', { className: 'auth0-tsoa-api-jkt', 'data-jkt': jkt }, jkt || '…'),
        ),
      ),
      h(
        Row,
        null,
        h('label', { htmlFor: inputId }, 'Value:'),
        value
          ? h('code', null, ' ****** ')
          : h(
              Col,
              null,
              h(Input, {
                id: inputId,
                type: 'text',
                'aria-label': 'auth-dpop-value',
                autoFocus: true,
                onChange: function (event) {
                  props.onChange({ name: name, schema: schema, value: event.target.value });
                },
              }),
            ),
      ),
      errors.valueSeq().map(function (error, index) {
        return h(AuthError, { error: error, key: index });
      }),
    );
  }

  /**
   * The switch under each OAuth2 flow: request DPoP-bound tokens (the token request gets a proof). Shown checked
   * and disabled when the API requires DPoP.
   */
  function DpopOptIn() {
    var React = system.React;
    var h = React.createElement;
    var required = dpopForOAuth2Required();
    var state = React.useState(dpopForOAuth2());
    React.useEffect(function () {
      optInListeners.add(state[1]);
      return function () {
        optInListeners.delete(state[1]);
      };
    }, []);
    return h(
      'div',
      { className: 'auth0-tsoa-api-dpop-oauth2', style: { margin: '0 0 16px' } },
      h(
        'label',
        null,
        h('input', {
          type: 'checkbox',
          checked: required || state[0],
          disabled: required,
          'aria-label': 'dpop-bind-oauth2',
          onChange: function (event) {
            if (!required) setDpopForOAuth2(event.target.checked);
          },
        }),
        ' Bind the token to this browser’s DPoP key (sends a DPoP proof to the token endpoint; the API then gets ',
        h('code', null, 'Authorization: DPoP'),
        ' plus a proof per request)',
        required ? h('em', null, ' — required by this API') : null,
      ),
    );
  }

  /** Pre-fills the client credentials flow with the configured (development) client. */
  function oauth2Props(props) {
    var cc = config().clientCredentials;
    if (!cc || !props.schema || props.schema.get('flow') !== 'clientCredentials') return props;
    var selectors = props.authSelectors;
    var patched = Object.assign({}, selectors, {
      getConfigs: function () {
        return Object.assign({}, selectors.getConfigs(), { clientId: cc.clientId, clientSecret: cc.clientSecret || '' });
      },
    });
    return Object.assign({}, props, { authSelectors: patched });
  }

  /** The Swagger UI plugin. */
  function plugin(sys) {
    system = sys;
    return {
      wrapComponents: {
        HttpAuth: function (Original, s) {
          return function (props) {
            var scheme = String((props.schema && props.schema.get('scheme')) || '').toLowerCase();
            if (scheme === 'dpop' && config().dpop) return s.React.createElement(DpopAuth, props);
            return s.React.createElement(Original, props);
          };
        },
        oauth2: function (Original, s) {
          return function (props) {
            var h = s.React.createElement;
            var flow = (props.schema && props.schema.get('flow')) || '';
            var authorized = props.authorized && props.authorized.get(props.name);
            return h('div', { className: 'auth0-tsoa-api-oauth2-flow', 'data-flow': flow }, h(Original, oauth2Props(props)), config().dpop && !authorized ? h(DpopOptIn) : null);
          };
        },
      },
    };
  }

  window.auth0TsoaApiSwagger = {
    plugin: plugin,
    requestInterceptor: requestInterceptor,
    keyPair: keyPair,
    thumbprint: thumbprint,
    resetKey: resetKey,
    dpopForOAuth2: dpopForOAuth2,
    dpopForOAuth2Required: dpopForOAuth2Required,
    setDpopForOAuth2: setDpopForOAuth2,
  };
})();
