from django.contrib.auth import views as auth_views
from django.urls import path

from surveys.views import citizen, common, official

app_name = "surveys"

urlpatterns = [
    path("", common.home, name="home"),
    # Citizens
    path("w/<slug:wave>/", citizen.start, name="start"),
    path("w/<slug:wave>/p/<int:number>/", citizen.page, name="page"),
    path("w/<slug:wave>/review/", citizen.review, name="review"),
    path("w/<slug:wave>/done/", citizen.done, name="done"),
    path("w/<slug:wave>/saved/", citizen.saved, name="saved"),
    path("w/<slug:wave>/resume/", citizen.resume, name="resume"),
    path("w/<slug:wave>/restart/", citizen.restart, name="restart"),
    path("i/<str:token>/", citizen.invitation, name="invitation"),
    path("invitation/<slug:problem>/", citizen.invitation_problem, name="invitation_problem"),
    # Officials
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/welcome/", common.after_login, name="after_login"),
    path("official/", official.home, name="official_home"),
    path("official/<slug:wave>/<slug:locality>/start/", official.start, name="official_start"),
    path("official/<slug:wave>/<slug:locality>/p/<int:number>/", official.page, name="official_page"),
    path("official/<slug:wave>/<slug:locality>/review/", official.review, name="official_review"),
    path("official/<slug:wave>/<slug:locality>/done/", official.done, name="official_done"),
    path("official/<slug:wave>/<slug:locality>/saved/", official.saved, name="official_saved"),
]
