export default defineAppConfig({
  pages: [
    'pages/home/index',
    'pages/login/index',
    'pages/settings/index',
  ],
  window: {
    backgroundTextStyle: 'light',
    navigationBarBackgroundColor: '#fff',
    navigationBarTitleText: 'tokenrelay',
    navigationBarTextStyle: 'black',
  },
})
