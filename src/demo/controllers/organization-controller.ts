import { Controller, Get, Path, Route, Security, Tags } from '@tsoa/runtime';

@Route('api/orgs')
@Tags('Organizations')
export class OrganizationController extends Controller {
  /**
   * Requires the `read:messages` scope and a token issued for the organization `orgId` (policy `orgMember`): an
   * `org_…` ID must equal the token's `org_id`; a name must equal its `org_name`, ignoring case.
   * @param orgId An Auth0 Organization ID (`org_abc123`) or name (`acme`).
   */
  @Get('{orgId}/messages')
  @Security('orgMember', ['read:messages'])
  public getOrganizationMessages(@Path() orgId: string): { org: string; messages: Array<{ id: number; text: string }> } {
    return {
      org: orgId,
      messages: [
        { id: 1, text: `Welcome to ${orgId}` },
        { id: 2, text: 'Only members of this organization can read this' },
      ],
    };
  }
}
