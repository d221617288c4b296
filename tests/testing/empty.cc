// Keeps pinpipe_testing non-empty.
