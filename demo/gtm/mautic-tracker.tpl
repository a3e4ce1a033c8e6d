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
    "help": "Where the tracking script is served: your proxy (e.g. https://www.example.com/mt/mtc.js) or your Mautic (https://mautic.example.com/mtc.js). Hits go to the same folder. Also allow this URL under Permissions → Injects scripts.",
    "valueHint": "https://www.example.com/mt/mtc.js",
    "valueValidators": [
      { "type": "NON_EMPTY" },
      { "type": "REGEX", "args": ["^https://.+/mtc\\.js(\\?.*)?$"] }
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
const callInWindow = require('callInWindow');
const copyFromWindow = require('copyFromWindow');
const createArgumentsQueue = require('createArgumentsQueue');
const getType = require('getType');
const injectScript = require('injectScript');
const logToConsole = require('logToConsole');
const makeTableMap = require('makeTableMap');
const setInWindow = require('setInWindow');

const name = data.globalName || 'mt';

setInWindow('MauticTrackingObject', name, true);
// Loaded already (by this tag on an earlier trigger, or by a snippet): use it; else queue.
if (getType(copyFromWindow(name)) !== 'function') {
  createArgumentsQueue(name, name + '.q');
}

if (data.sendPageview) {
  const rows = data.customParams || [];
  if (rows.length > 0) {
    callInWindow(name, 'send', 'pageview', makeTableMap(rows, 'name', 'value'));
  } else {
    callInWindow(name, 'send', 'pageview');
  }
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
- name: Reports a script that does not load
  code: |-
    mock('injectScript', (url, onSuccess, onFailure) => onFailure());
    runCode({ scriptUrl: 'https://www.example.com/mt/mtc.js', globalName: 'mt', sendPageview: true });
    assertApi('gtmOnFailure').wasCalled();


___NOTES___

mautic-tracker GTM template. Import it in Google Tag Manager under Templates → Tag Templates → New
→ ⋮ → Import. Then, in the template editor's Permissions tab, set "Injects scripts" to your script
URL (and the global names, if you renamed mt). See the README section "Tag managers".
