___INFO___

{
  "type": "TAG",
  "id": "cvt_temp_public_id",
  "version": 1,
  "securityGroups": [],
  "displayName": "Mautic tracking (mautic-tracker)",
  "categories": ["ANALYTICS", "MARKETING"],
  "brand": {
    "id": "brand_dummy",
    "displayName": "mautic-tracker"
  },
  "description": "Loads the mautic-tracker script (a drop-in replacement for Mautic's mtc.js, or Mautic's own mtc.js) and sends a pageview with optional parameters. Same queue as Mautic's snippet.",
  "containerContexts": [
    "WEB"
  ]
}


___TEMPLATE_PARAMETERS___

[
  {
    "type": "TEXT",
    "name": "scriptUrl",
    "displayName": "Script URL",
    "simpleValueType": true,
    "help": "Where the tracking script is served: your proxy (e.g. https://www.example.com/mt/mtc.js) or your Mautic (https://mautic.example.com/mtc.js), or your copy of the variant mtc.durable.js (durable queue and consent mode). Hits go to the same folder. Also allow this URL under Permissions → Injects scripts.",
    "valueHint": "https://www.example.com/mt/mtc.js",
    "valueValidators": [
      { "type": "NON_EMPTY" },
      { "type": "REGEX", "args": ["^https://.+/mtc(\\.durable)?\\.js(\\?.*)?$"] }
    ]
  },
  {
    "type": "TEXT",
    "name": "globalName",
    "displayName": "Global name",
    "simpleValueType": true,
    "defaultValue": "mt",
    "help": "The name of the tracking function on the page (Mautic's snippet uses mt). If you change it, also change the global names under Permissions → Accesses global variables.",
    "valueValidators": [
      { "type": "NON_EMPTY" },
      { "type": "REGEX", "args": ["^[A-Za-z_$][A-Za-z0-9_$]{0,63}$"] }
    ]
  },
  {
    "type": "CHECKBOX",
    "name": "sendPageview",
    "checkboxText": "Send a pageview",
    "simpleValueType": true,
    "defaultValue": true,
    "help": "Unticked, the tag only loads the script (for a page that sends its own commands)."
  },
  {
    "type": "CHECKBOX",
    "name": "consentMode",
    "checkboxText": "Wait for Google consent mode (analytics_storage)",
    "simpleValueType": true,
    "defaultValue": false,
    "help": "Needs the script variant mtc.durable.js at the Script URL (the default mtc.js has no consent mode: its size budget): a proxy serving it (loadSdkScript({ variant: 'durable' })) or your own copy of it. Ticked, the script sends and stores nothing until analytics_storage is granted: sends made before are held and go out on the grant; a later denial drops them and removes what the script stored (ids, kept sends). The tag itself queues its pageview only once analytics_storage is granted, so even the default mtc.js sends nothing before. Set analytics_storage from your consent manager (its consent mode template or gtag('consent', 'update', …))."
  },
  {
    "type": "SIMPLE_TABLE",
    "name": "customParams",
    "displayName": "Custom parameters",
    "help": "Sent with the pageview, e.g. tags = newsletter,-trial or utm_campaign = spring. Contact fields such as email only take effect for fields Mautic marks as publicly updatable; identify visitors through the proxy instead.",
    "enablingConditions": [
      { "paramName": "sendPageview", "paramValue": true, "type": "EQUALS" }
    ],
    "simpleTableColumns": [
      {
        "defaultValue": "",
        "displayName": "Name",
        "name": "name",
        "type": "TEXT",
        "valueValidators": [
          { "type": "NON_EMPTY" },
          { "type": "REGEX", "args": ["^[A-Za-z0-9_]{1,64}$"] }
        ]
      },
      {
        "defaultValue": "",
        "displayName": "Value",
        "name": "value",
        "type": "TEXT"
      }
    ]
  }
]


___SANDBOXED_JS_FOR_WEB_TEMPLATE___

// Does what Mautic's snippet does, with GTM's sandboxed APIs: name the global, make it a queue
// of `arguments` (window[name].q) until the script loads, queue the pageview, inject the script.
const addConsentListener = require('addConsentListener');
const callInWindow = require('callInWindow');
const copyFromWindow = require('copyFromWindow');
const createArgumentsQueue = require('createArgumentsQueue');
const getType = require('getType');
const injectScript = require('injectScript');
const isConsentGranted = require('isConsentGranted');
const logToConsole = require('logToConsole');
const makeTableMap = require('makeTableMap');
const setInWindow = require('setInWindow');

const name = data.globalName || 'mt';

setInWindow('MauticTrackingObject', name, true);
// Loaded already (by this tag on an earlier trigger, or by a snippet): use it; else queue.
if (getType(copyFromWindow(name)) !== 'function') {
  createArgumentsQueue(name, name + '.q');
}

// Google consent mode → the script's consent (README "Consent"; mtc.durable.js and the npm entry,
// not the default mtc.js): queued before the pageview, so the script holds every send until
// analytics_storage is granted. An unset consent type counts as granted (GTM's rule); a change
// either way is passed on. A second firing registers a second listener, which repeats the same
// decision: harmless.
const granted = !data.consentMode || isConsentGranted('analytics_storage');
if (data.consentMode) {
  callInWindow(name, 'config', { consent: 'required' });
  if (isConsentGranted('analytics_storage')) {
    callInWindow(name, 'consent', 'grant');
  }
  addConsentListener('analytics_storage', (consentType, granted) => {
    callInWindow(name, 'consent', granted ? 'grant' : 'deny');
  });
}

const sendPageview = () => {
  const rows = data.customParams || [];
  if (rows.length > 0) {
    callInWindow(name, 'send', 'pageview', makeTableMap(rows, 'name', 'value'));
  } else {
    callInWindow(name, 'send', 'pageview');
  }
};

// In consent mode the tag's own pageview waits for the grant too, so that a script without consent
// mode (the default mtc.js) at the Script URL still sends nothing before it.
if (data.sendPageview && granted) {
  sendPageview();
} else if (data.sendPageview) {
  let sent = false;
  addConsentListener('analytics_storage', (consentType, isGranted) => {
    if (isGranted && !sent) {
      sent = true;
      sendPageview();
    }
  });
}

// The cache token makes GTM inject the script once per page, however often the tag fires.
injectScript(data.scriptUrl, data.gtmOnSuccess, function () {
  logToConsole('mautic-tracker: could not load ' + data.scriptUrl);
  data.gtmOnFailure();
}, 'mautic-tracker');


___WEB_PERMISSIONS___

[
  {
    "instance": {
      "key": {
        "publicId": "inject_script",
        "versionId": "1"
      },
      "param": [
        {
          "key": "urls",
          "value": {
            "type": 2,
            "listItem": [
              {
                "type": 1,
                "string": "https://www.example.com/mt/mtc.js"
              }
            ]
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  },
  {
    "instance": {
      "key": {
        "publicId": "access_globals",
        "versionId": "1"
      },
      "param": [
        {
          "key": "keys",
          "value": {
            "type": 2,
            "listItem": [
              {
                "type": 3,
                "mapKey": [
                  { "type": 1, "string": "key" },
                  { "type": 1, "string": "read" },
                  { "type": 1, "string": "write" },
                  { "type": 1, "string": "execute" }
                ],
                "mapValue": [
                  { "type": 1, "string": "MauticTrackingObject" },
                  { "type": 8, "boolean": true },
                  { "type": 8, "boolean": true },
                  { "type": 8, "boolean": false }
                ]
              },
              {
                "type": 3,
                "mapKey": [
                  { "type": 1, "string": "key" },
                  { "type": 1, "string": "read" },
                  { "type": 1, "string": "write" },
                  { "type": 1, "string": "execute" }
                ],
                "mapValue": [
                  { "type": 1, "string": "mt" },
                  { "type": 8, "boolean": true },
                  { "type": 8, "boolean": true },
                  { "type": 8, "boolean": true }
                ]
              },
              {
                "type": 3,
                "mapKey": [
                  { "type": 1, "string": "key" },
                  { "type": 1, "string": "read" },
                  { "type": 1, "string": "write" },
                  { "type": 1, "string": "execute" }
                ],
                "mapValue": [
                  { "type": 1, "string": "mt.q" },
                  { "type": 8, "boolean": true },
                  { "type": 8, "boolean": true },
                  { "type": 8, "boolean": false }
                ]
              }
            ]
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  },
  {
    "instance": {
      "key": {
        "publicId": "access_consent",
        "versionId": "1"
      },
      "param": [
        {
          "key": "consentTypes",
          "value": {
            "type": 2,
            "listItem": [
              {
                "type": 3,
                "mapKey": [
                  { "type": 1, "string": "consentType" },
                  { "type": 1, "string": "read" },
                  { "type": 1, "string": "write" }
                ],
                "mapValue": [
                  { "type": 1, "string": "analytics_storage" },
                  { "type": 8, "boolean": true },
                  { "type": 8, "boolean": false }
                ]
              }
            ]
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  },
  {
    "instance": {
      "key": {
        "publicId": "logging",
        "versionId": "1"
      },
      "param": [
        {
          "key": "environments",
          "value": {
            "type": 1,
            "string": "debug"
          }
        }
      ]
    },
    "isRequired": true
  }
]


___TESTS___

scenarios:
- name: Queues a pageview with custom parameters, then injects the script
  code: |-
    mock('injectScript', (url, onSuccess, onFailure, cacheToken) => {
      assertThat(url).isEqualTo('https://www.example.com/mt/mtc.js');
      assertThat(cacheToken).isEqualTo('mautic-tracker');
      onSuccess();
    });
    runCode({
      scriptUrl: 'https://www.example.com/mt/mtc.js',
      globalName: 'mt',
      sendPageview: true,
      customParams: [{ name: 'tags', value: 'gtm' }]
    });
    assertApi('createArgumentsQueue').wasCalledWith('mt', 'mt.q');
    assertApi('callInWindow').wasCalledWith('mt', 'send', 'pageview', { tags: 'gtm' });
    assertApi('gtmOnSuccess').wasCalled();
- name: Only loads the script when the pageview is off
  code: |-
    mock('injectScript', (url, onSuccess) => onSuccess());
    runCode({ scriptUrl: 'https://www.example.com/mt/mtc.js', globalName: 'mt', sendPageview: false });
    assertApi('callInWindow').wasNotCalled();
    assertApi('gtmOnSuccess').wasCalled();
- name: Consent mode holds the pageview until analytics_storage is granted
  code: |-
    mock('injectScript', (url, onSuccess) => onSuccess());
    mock('isConsentGranted', (type) => false);
    runCode({ scriptUrl: 'https://www.example.com/mt/mtc.js', globalName: 'mt', sendPageview: true, consentMode: true });
    assertApi('callInWindow').wasCalledWith('mt', 'config', { consent: 'required' });
    assertApi('callInWindow').wasNotCalledWith('mt', 'consent', 'grant');
    assertApi('addConsentListener').wasCalled();
    assertApi('callInWindow').wasNotCalledWith('mt', 'send', 'pageview');
- name: Consent mode with analytics_storage granted grants at once
  code: |-
    mock('injectScript', (url, onSuccess) => onSuccess());
    mock('isConsentGranted', (type) => type === 'analytics_storage');
    runCode({ scriptUrl: 'https://www.example.com/mt/mtc.js', globalName: 'mt', sendPageview: true, consentMode: true });
    assertApi('callInWindow').wasCalledWith('mt', 'consent', 'grant');
- name: Reports a script that does not load
  code: |-
    mock('injectScript', (url, onSuccess, onFailure) => onFailure());
    runCode({ scriptUrl: 'https://www.example.com/mt/mtc.js', globalName: 'mt', sendPageview: true });
    assertApi('gtmOnFailure').wasCalled();


___NOTES___

mautic-tracker GTM template. Import it in Google Tag Manager under Templates → Tag Templates → New
→ ⋮ → Import. Then, in the template editor's Permissions tab, set "Injects scripts" to your script
URL (and the global names, if you renamed mt). See the README section "Tag managers". With
"Wait for Google consent mode", the tag reads analytics_storage (permission: Accesses consent
state) and passes it to the script as mt('consent', 'grant' | 'deny'); the Script URL must then
serve the variant mtc.durable.js (the default mtc.js has no consent mode), see README "Consent".
