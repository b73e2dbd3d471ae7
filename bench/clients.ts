// Each library set up the way its own documentation shows, over the same fake transport. The only thing
// added to the documented setup is the adapter that hands requests to that transport.
import { createAlova } from 'alova'
import type { AlovaRequestAdapter, Method, StatesExport, StatesHook } from 'alova'
import { createServerTokenAuthentication } from 'alova/client'
import axios, { AxiosError, AxiosHeaders } from 'axios'
import type { AxiosAdapter, AxiosInstance, AxiosResponse, InternalAxiosRequestConfig } from 'axios'
import { createAuthRefresh } from 'axios-auth-refresh'
import type { AxiosAuthRefreshRequestConfig } from 'axios-auth-refresh'
import { createTokenRelay } from '../src/index.js'
import type { Credentials, RelayRequest, RelayResponse, Transport } from '../src/index.js'
import { API } from './fake-server.js'
import type { FakeServer, Tokens } from './fake-server.js'

export type LibraryName = 'tokenrelay' | 'alova' | 'axios-auth-refresh'

export interface BenchClient {
  /** A GET through the library and its token handling: resolves with the body, rejects on any failure. */
  get(path: string): Promise<unknown>
}

export interface Library {
  name: LibraryName
  /** Builds a client holding `tokens` (as if the user had logged in). */
  create(server: FakeServer, tokens: Tokens): Promise<BenchClient>
  /** The same HTTP client without its auth layer, to tell the auth layer's cost from the client's. */
  host(server: FakeServer, tokens: Tokens): BenchClient
}

class HttpError extends Error {
  constructor(readonly response: RelayResponse) {
    super(`answered ${response.statusCode}`)
  }
}

/** What every hand-written wrapper does with a transport answer. */
function unwrap(response: RelayResponse): unknown {
  if (response.statusCode >= 400) throw new HttpError(response)
  return response.data
}

/** The reference the overhead ratios are taken against: the transport, a fixed header, `unwrap`. */
export function bareClient(server: FakeServer, tokens: Tokens): BenchClient {
  const header = { Authorization: 'Bearer ' + tokens.accessToken }
  return { get: (path) => server.transport({ url: API + path, method: 'GET', header }).then(unwrap) }
}

// --- tokenrelay: `createTokenRelay` + `relay.send(request, transport)`, as src/options.ts documents it.

const tokenrelay: Library = {
  name: 'tokenrelay',
  async create(server, tokens) {
    const transport: Transport = server.transport
    const relay = createTokenRelay({
      baseURL: API,
      transport,
      refresh: async ({ refreshToken, request }) =>
        (await request({ url: '/auth/refresh', method: 'POST', data: { refreshToken } })).data as Credentials,
    })
    await relay.setCredentials(tokens)
    return { get: (path) => relay.send({ url: path, method: 'GET' }, transport).then(unwrap) }
  },
  host: bareClient,
}

// --- axios-auth-refresh 5: README "Usage" + "Request interceptor" (read the token each time) + "Skipping the
// interceptor" on the refresh call. Everything else at its defaults (deduplicateRefresh: true, statusCodes [401]).

/** An axios adapter over the fake transport; status handling copied from axios' own `settle`. */
function axiosAdapter(transport: Transport): AxiosAdapter {
  return (config: InternalAxiosRequestConfig) => {
    const url = /^[a-z]+:/i.test(config.url || '') ? config.url! : (config.baseURL || '').replace(/\/+$/, '') + config.url
    const request: RelayRequest = {
      url,
      method: (config.method || 'get').toUpperCase(),
      header: AxiosHeaders.from(config.headers).toJSON(true) as Record<string, string>,
      data: config.data,
    }
    return transport(request).then((r) => {
      const response: AxiosResponse = {
        data: r.data,
        status: r.statusCode,
        statusText: String(r.statusCode),
        headers: AxiosHeaders.from(r.header as Record<string, string>),
        config,
        request,
      }
      const validate = config.validateStatus
      if (!validate || validate(response.status)) return response
      throw new AxiosError(
        'Request failed with status code ' + response.status,
        response.status < 500 ? AxiosError.ERR_BAD_REQUEST : AxiosError.ERR_BAD_RESPONSE,
        config,
        request,
        response,
      )
    })
  }
}

function axiosInstance(server: FakeServer): AxiosInstance {
  return axios.create({ baseURL: API, adapter: axiosAdapter(server.transport) })
}

const axiosAuthRefresh: Library = {
  name: 'axios-auth-refresh',
  async create(server, tokens) {
    const store = { ...tokens } // stands in for localStorage / wx.setStorageSync
    const instance = axiosInstance(server)
    const refreshAuthLogic = (failedRequest: { response: AxiosResponse }) =>
      instance
        .post('/auth/refresh', { refreshToken: store.refreshToken }, { skipAuthRefresh: true } as AxiosAuthRefreshRequestConfig)
        .then((tokenRefreshResponse) => {
          const data = tokenRefreshResponse.data as Tokens
          store.accessToken = data.accessToken
          store.refreshToken = data.refreshToken
          failedRequest.response.config.headers['Authorization'] = 'Bearer ' + data.accessToken
        })
    createAuthRefresh(instance, refreshAuthLogic)
    instance.interceptors.request.use((request) => {
      request.headers['Authorization'] = `Bearer ${store.accessToken}`
      return request
    })
    return { get: (path) => instance.get(path).then((r) => r.data) }
  },
  host(server, tokens) {
    const instance = axiosInstance(server)
    instance.interceptors.request.use((request) => {
      request.headers['Authorization'] = `Bearer ${tokens.accessToken}`
      return request
    })
    return { get: (path) => instance.get(path).then((r) => r.data) }
  },
}

// --- alova 3.5.5: "Token authentication interceptor" page (alova.js.org/tutorial/client/strategy/token-authentication),
// server-based variant: `refreshTokenOnSuccess` (a custom adapter resolves 401 answers, like alova/fetch does),
// `assignToken`, the refresh method marked `meta: { authRole: 'refreshToken' }`, the handler rethrowing after a failed
// refresh. `cacheFor: null` so that no GET is answered from alova's memory cache instead of the transport.

type AlovaAdapter = AlovaRequestAdapter<object, RelayResponse, RelayResponse['header']>

function alovaAdapter(transport: Transport): AlovaAdapter {
  return (elements) => {
    const answer = transport({
      url: elements.url,
      method: elements.type,
      header: { ...elements.headers } as Record<string, string>,
      data: elements.data,
    })
    return { response: () => answer, headers: () => answer.then((r) => r.header || {}), abort() {} }
  }
}

/**
 * Stands in for the storage alova finds on its real platforms (localStorage, uni/Taro storage adapters).
 * Node has none, and alova's placeholder then throws (and builds a stack trace) on every response.
 */
function alovaStorage() {
  const map = new Map<string, unknown>()
  return {
    set: (key: string, value: unknown) => void map.set(key, value),
    get: <T>(key: string) => map.get(key) as T | undefined,
    remove: (key: string) => void map.delete(key),
    clear: () => map.clear(),
  }
}

function alovaResponded(response: RelayResponse) {
  // The documented success interceptor turns an HTTP error into a thrown error.
  return unwrap(response)
}

const alova: Library = {
  name: 'alova',
  async create(server, tokens) {
    const store = { ...tokens }
    const requestAdapter = alovaAdapter(server.transport)
    const { onAuthRequired, onResponseRefreshToken } = createServerTokenAuthentication<StatesHook<StatesExport<any>>, AlovaAdapter>({
      refreshTokenOnSuccess: {
        isExpired: (response: RelayResponse) => response.statusCode === 401,
        handler: async () => {
          // The docs wrap this in a try/catch that redirects to the login page and rethrows; no page here.
          const data = (await instance.Post(
            '/auth/refresh',
            { refreshToken: store.refreshToken },
            {
              meta: { authRole: 'refreshToken' },
            },
          )) as Tokens
          store.accessToken = data.accessToken
          store.refreshToken = data.refreshToken
        },
      },
      assignToken: (method: Method) => {
        method.config.headers.Authorization = `Bearer ${store.accessToken}`
      },
    })
    const instance = createAlova({
      baseURL: API,
      requestAdapter,
      cacheFor: null,
      l2Cache: alovaStorage(),
      beforeRequest: onAuthRequired(),
      responded: onResponseRefreshToken({ onSuccess: alovaResponded }),
    })
    return { get: (path) => instance.Get(path).send() }
  },
  host(server, tokens) {
    const instance = createAlova({
      baseURL: API,
      requestAdapter: alovaAdapter(server.transport),
      cacheFor: null,
      l2Cache: alovaStorage(),
      beforeRequest: (method) => {
        method.config.headers.Authorization = `Bearer ${tokens.accessToken}`
      },
      responded: { onSuccess: alovaResponded },
    })
    return { get: (path) => instance.Get(path).send() }
  },
}

export const libraries: Record<LibraryName, Library> = {
  tokenrelay,
  alova,
  'axios-auth-refresh': axiosAuthRefresh,
}
