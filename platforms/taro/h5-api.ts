// tokenrelay/taro/h5-api: used by the module `tokenrelay/taro/plugin` generates for Taro H5 builds.
//
// On H5, Taro's babel plugin turns `Taro.uploadFile(...)` in app code into `import { uploadFile } from
// '@tarojs/taro'`, and the build points '@tarojs/taro' at its H5 API module: no runtime patch of the
// `Taro` object reaches those calls. The CLI plugin therefore aliases '@tarojs/taro' (exact match) to a
// generated module that re-exports Taro's H5 API module with `relayFileApi('uploadFile', original)` and
// `relayFileApi('downloadFile', original)` in place of the two originals.
//
// This module must not import '@tarojs/taro': in that build it would resolve to the generated wrapper.
import { installed } from '../shared/registry.js'
import type { FileApi, Params, TaroPromise } from './task.js'
import { TARO, fileCall, markRelayed } from './task.js'

/**
 * `original` (Taro's own uploadFile/downloadFile) routed through the relay `install()` created, looked up
 * at call time: before install() and after uninstall() calls go to `original` untouched.
 */
export function relayFileApi(api: FileApi, original: (options: Params) => TaroPromise): (options: Params) => TaroPromise {
  if ((api !== 'uploadFile' && api !== 'downloadFile') || typeof original !== 'function') {
    throw new TypeError(`[tokenrelay] relayFileApi(${String(api)}): expects 'uploadFile' or 'downloadFile' and Taro's function for it`)
  }
  return markRelayed((options: Params) => {
    const current = installed(TARO)
    return current ? fileCall(current.relay, api, original, options, current.report) : original(options)
  })
}
